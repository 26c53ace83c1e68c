/**
 * The accounts a test host offers over SSH. Created inside the host's
 * copy-on-write /etc and /home, so the real machine's users are untouched.
 */
import { TEST_USER } from "./constants";

/**
 * `gvtest` logs in with /bin/sh (dash), so a bashism in a step fails when run
 * as the non-root user; root keeps Debian's /bin/bash. sshd runs without PAM,
 * and without PAM it refuses accounts whose password field starts with "!"
 * (locked); "*" means "no password, not locked", which is what key-only cloud
 * users have.
 */
export const USERS_SCRIPT = String.raw`
if ! id -u ${TEST_USER} >/dev/null 2>&1; then
  useradd --create-home --shell /bin/sh ${TEST_USER}
fi
usermod -p '*' ${TEST_USER}
case "$(getent shadow root | cut -d: -f2)" in '!'*) usermod -p '*' root ;; esac
printf '%s ALL=(ALL:ALL) NOPASSWD: ALL\n' ${TEST_USER} > /etc/sudoers.d/${TEST_USER}
chmod 0440 /etc/sudoers.d/${TEST_USER}
`;
