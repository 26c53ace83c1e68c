import hashlib, json, os, re, stat, sys

def die(msg, code=4):
    sys.stderr.write(msg.rstrip("\n") + "\n")
    sys.exit(code)

def env(name, default=None):
    v = os.environ.get(name)
    if v is None:
        if default is None:
            die("internal error: %s is not set" % name, 70)
        return default
    return v

def read_text(path):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        die("%s is not UTF-8 text" % path)

def write_text(path, text):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)

# -- emit -----------------------------------------------------------------
def cmd_emit():
    out = {}
    for i in range(1, int(env("GVE_COUNT")) + 1):
        spec = env("GVE_%d" % i)
        key, _, val = spec.partition("=")
        name, _, typ = key.partition(":")
        if typ == "":
            out[name] = val
        elif typ == "b":
            out[name] = (val == "true")
        elif typ == "i":
            out[name] = int(val) if val != "" else None
        elif typ == "j":
            out[name] = json.loads(val)
        elif typ == "n":
            out[name] = None
        elif typ == "s?":
            out[name] = val if val != "" else None
        elif typ == "l":
            out[name] = val.split()
        else:
            die("internal error: bad field type " + typ, 70)
    sys.stdout.write(json.dumps(out, separators=(",", ":"), ensure_ascii=False) + "\n")

# -- hashing --------------------------------------------------------------
def cmd_sha512():
    print(file_digest(env("GVP_FILE")))

def cmd_tree_digest():
    print(tree_digest(env("GVP_DIR")))

def file_digest(path):
    h = hashlib.sha512()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

def tree_digest(root):
    h = hashlib.sha512()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            h.update(("%s\0%o\0" % (rel, st.st_mode)).encode("utf-8", "surrogateescape"))
            if stat.S_ISLNK(st.st_mode):
                h.update(os.readlink(p).encode("utf-8", "surrogateescape"))
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
            h.update(b"\0")
    return h.hexdigest()

def cmd_untar():
    # Fallback when bzip2(1) is missing: extract regular files and directories only.
    import tarfile
    dest = env("GVP_DEST")
    with tarfile.open(env("GVP_ARCHIVE"), "r:bz2") as tf:
        for m in tf.getmembers():
            name = os.path.normpath(m.name)
            if name.startswith("/") or name == ".." or name.startswith("../"):
                die("archive member %r escapes the extraction directory" % m.name)
            target = os.path.join(dest, name)
            if m.isdir():
                os.makedirs(target, exist_ok=True)
            elif m.isfile():
                os.makedirs(os.path.dirname(target), exist_ok=True)
                src = tf.extractfile(m)
                with open(target, "wb") as f:
                    f.write(src.read())
                os.chmod(target, m.mode & 0o755)

# -- undo: what to do with a managed file --------------------------------
def digest_of(path):
    # sha512 of a file's bytes (through a symlink), or the tree digest of a directory.
    return tree_digest(path) if os.path.isdir(path) else file_digest(path)

def undo_action(exists, current, written, original):
    # The one decision for a file pulumi-gvisor manages, on the evidence:
    # current: digest of what is there now; written: digests of every version
    # we wrote; original: digest of the recorded original, or None when there
    # was no file. Returns none | restore-original | remove-file | unmerge.
    if not exists:
        return "none"
    if original is not None and current == original:
        return "none"
    if current in written:
        return "restore-original" if original is not None else "remove-file"
    return "unmerge"

def cmd_undo_plan():
    # Prints the action for GVP_PATH. GVP_WRITTEN: file of digests we wrote
    # (one per line, may be missing); GVP_ORIGINAL: the original's copy ("" =
    # none); GVP_MERGED=1: our part can be taken out of an edited file (JSON
    # entry, marked block), else an edited file is kept as it is.
    path, orig = env("GVP_PATH"), env("GVP_ORIGINAL", "")
    written = set()
    try:
        with open(env("GVP_WRITTEN")) as f:
            written = set(l.strip() for l in f if l.strip())
    except FileNotFoundError:
        pass
    exists = os.path.lexists(path) and os.path.exists(path)
    action = undo_action(exists, digest_of(path) if exists else None, written,
                         digest_of(orig) if orig else None)
    if action == "unmerge" and env("GVP_MERGED", "0") != "1":
        action = "keep"
    print(action)

# -- Docker daemon.json -----------------------------------------------------
def load_daemon_json(path, what):
    if not os.path.exists(path):
        return None, ""
    text = read_text(path)
    if text.strip() == "":
        return {}, text
    try:
        obj = json.loads(text)
    except ValueError as e:
        die("%s is not valid JSON (%s)" % (what, e))
    if not isinstance(obj, dict):
        die("%s does not hold a JSON object" % what)
    if "runtimes" in obj and not isinstance(obj["runtimes"], dict):
        die('%s has a "runtimes" value that is not an object' % what)
    return obj, text

def json_indent(text):
    for line in text.splitlines():
        m = re.match(r'^([ \t]+)"', line)
        if m:
            ws = m.group(1)
            return "\t" if ws.startswith("\t") else len(ws)
    return 2

def dump_daemon_json(obj, old_text):
    return json.dumps(obj, indent=json_indent(old_text), ensure_ascii=False) + "\n"

def parse_entry():
    try:
        entry = json.loads(env("GVP_ENTRY"))
    except ValueError as e:
        die("the runtime entry is not valid JSON (%s)" % e, 5)
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or entry["path"] == "":
        die('the runtime entry must be a JSON object with a "path" string', 5)
    args = entry.get("runtimeArgs", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        die('the runtime entry\'s "runtimeArgs" must be a list of strings', 5)
    return entry

def cmd_entry_words():
    # Line 1: the runtime path; then one runtimeArg per line.
    entry = parse_entry()
    for w in [entry["path"]] + list(entry.get("runtimeArgs", [])):
        if "\n" in w:
            die("a runtime argument contains a newline", 5)
        print(w)

def cmd_docker_runtime_words():
    # Path and runtimeArgs (one per line) of GVP_RUNTIME in `docker info` JSON; exit 3 if absent.
    got = (json.loads(env("GVP_INFO")) or {}).get(env("GVP_RUNTIME"))
    if not isinstance(got, dict) or not isinstance(got.get("path"), str):
        sys.exit(3)
    for w in [got["path"]] + [str(a) for a in (got.get("runtimeArgs") or [])]:
        print(w.replace("\n", " "))

def ours_flag(name):
    return env(name, "0") == "1"

def load_original(path_var):
    # The recorded original daemon.json as an object ({} when there was none).
    p = env(path_var, "")
    if not p:
        return {}
    o, _ = load_daemon_json(p, "the recorded original daemon.json")
    return o or {}

def cmd_docker_merge():
    # Puts runtime GVP_RUNTIME = GVP_ENTRY into GVP_CONFIG and prints
    # set_default=0|1 (whether default-runtime is now ours to undo).
    # GVP_ORIG: the recorded original ("" = there was none); GVP_OURS=1: the
    # entry there now is ours; GVP_SET_DEFAULT=1: we set default-runtime
    # before; GVP_DEFAULT=true|false: the plan; GVP_CLOBBER=false: refuse to
    # replace a runtime of that name we did not write.
    # exit 0: wrote GVP_OUT; 3: no change; 4: bad daemon.json; 5: bad entry or refused.
    path, name = env("GVP_CONFIG"), env("GVP_RUNTIME")
    entry = parse_entry()
    obj, text = load_daemon_json(path, path)
    orig = load_original("GVP_ORIG")
    set_default = ours_flag("GVP_SET_DEFAULT")
    new = json.loads(json.dumps(obj if obj is not None else {}))
    runtimes = new.get("runtimes", {})
    old = runtimes.get(name)
    if (old is not None and old != entry and not ours_flag("GVP_OURS")
            and env("GVP_CLOBBER", "true") != "true"):
        die("%s already has a Docker runtime named %s that pulumi-gvisor did not write (%s)"
            % (path, name, json.dumps(old)), 5)
    runtimes[name] = entry
    new["runtimes"] = runtimes
    cur_default = new.get("default-runtime")
    if env("GVP_DEFAULT") == "true":
        if cur_default not in (None, "", "runc", name) and not set_default:
            die("%s makes %s the default runtime, which pulumi-gvisor did not set and does not replace"
                % (path, cur_default), 5)
        if cur_default != name:
            new["default-runtime"] = name
            set_default = True
    elif set_default:
        # Ours to undo: back to the original's value (or none), and only if it still names us.
        if cur_default == name:
            if "default-runtime" in orig:
                new["default-runtime"] = orig["default-runtime"]
            else:
                del new["default-runtime"]
        set_default = False
    print("set_default=%d" % (1 if set_default else 0))
    if obj is not None and new == obj:
        sys.exit(3)
    write_text(env("GVP_OUT"), dump_daemon_json(new, text))

def cmd_docker_default_guess():
    # 1 when default-runtime in GVP_CONFIG names GVP_RUNTIME and the original
    # (GVP_ORIG, may be missing) did not: the first record layout set it.
    name = env("GVP_RUNTIME")
    cur, _ = load_daemon_json(env("GVP_CONFIG"), env("GVP_CONFIG"))
    orig_path = env("GVP_ORIG")
    orig, _ = load_daemon_json(orig_path, orig_path) if os.path.exists(orig_path) else ({}, "")
    print(1 if (cur or {}).get("default-runtime") == name and (orig or {}).get("default-runtime") != name else 0)

def cmd_docker_unmerge():
    # Takes our runtime GVP_RUNTIME out of GVP_CONFIG (the original's entry of
    # that name comes back), and default-runtime if GVP_SET_DEFAULT=1 and it
    # still names us. exit 0: wrote GVP_OUT; 3: nothing of ours left;
    # 4: bad daemon.json; 5: refused; 6: delete the file.
    path, name = env("GVP_CONFIG"), env("GVP_RUNTIME")
    cur, text = load_daemon_json(path, path)
    if cur is None:
        sys.exit(3)
    orig = load_original("GVP_ORIG")
    orig_rt = orig.get("runtimes") if isinstance(orig.get("runtimes"), dict) else {}
    new = json.loads(json.dumps(cur))
    rt = new.get("runtimes")
    if isinstance(rt, dict) and name in rt:
        if name in orig_rt:
            rt[name] = orig_rt[name]
        else:
            del rt[name]
        if not rt and "runtimes" not in orig:
            del new["runtimes"]
    if new.get("default-runtime") == name:
        if ours_flag("GVP_SET_DEFAULT"):
            if "default-runtime" in orig:
                new["default-runtime"] = orig["default-runtime"]
            else:
                del new["default-runtime"]
        elif name not in (new.get("runtimes") or {}):
            die("%s makes %s the default runtime, which pulumi-gvisor did not set; removing that runtime "
                "would leave dockerd without its default" % (path, name), 5)
    if new == cur:
        sys.exit(3)
    if new == {} and not env("GVP_ORIG", ""):
        sys.exit(6)
    write_text(env("GVP_OUT"), dump_daemon_json(new, text))

def cmd_docker_info_check():
    # exit 0 when dockerd (GVP_INFO) shows what GVP_FILE says about GVP_RUNTIME.
    info = json.loads(env("GVP_INFO"))
    name = env("GVP_RUNTIME")
    want, _ = load_daemon_json(env("GVP_FILE"), env("GVP_FILE"))
    want = want or {}
    have_rt = info.get("runtimes") or {}
    if "runtimes" in want:
        exp = want["runtimes"].get(name)
        got = have_rt.get(name)
        if exp is None and got is not None:
            die("dockerd still lists runtime %s" % name, 1)
        if exp is not None:
            if not isinstance(got, dict):
                die("docker info does not list runtime %s" % name, 1)
            if (got.get("path") != exp.get("path")
                    or list(got.get("runtimeArgs") or []) != list(exp.get("runtimeArgs") or [])):
                die("docker info lists runtime %s as %s" % (name, json.dumps(got)), 1)
    if "default-runtime" in want and info.get("default") != want["default-runtime"]:
        die("docker info shows default runtime %s, not %s" % (info.get("default"), want["default-runtime"]), 1)

def cmd_docker_transition():
    # exit 0: wrote GVP_OUT, the intermediate daemon.json; exit 3: none needed.
    cur, _ = load_daemon_json(env("GVP_CURRENT"), env("GVP_CURRENT"))
    final_path = env("GVP_FINAL", "")
    fin, text = load_daemon_json(final_path, final_path) if final_path else ({}, "")
    cur, fin = cur or {}, fin or {}
    mid = json.loads(json.dumps(fin))
    if "default-runtime" in cur and "default-runtime" not in fin:
        mid["default-runtime"] = "runc"
    if "runtimes" in cur and "runtimes" not in fin:
        mid["runtimes"] = {}
    if mid == fin:
        sys.exit(3)
    write_text(env("GVP_OUT"), dump_daemon_json(mid, text))

# -- TOML (containerd config, runsc.toml) ------------------------------------
HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
KEYVAL = re.compile(r"""^\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*=\s*(.*?)\s*$""")

def split_key(s):
    parts, i = [], 0
    while i < len(s):
        c = s[i]
        if c in " \t.":
            i += 1
        elif c == '"':
            j, buf = i + 1, ""
            while j < len(s) and s[j] != '"':
                if s[j] == "\\" and j + 1 < len(s):
                    buf += s[j + 1]
                    j += 2
                    continue
                buf += s[j]
                j += 1
            parts.append(buf)
            i = j + 1
        elif c == "'":
            j = s.find("'", i + 1)
            j = len(s) if j < 0 else j
            parts.append(s[i + 1:j])
            i = j + 1
        else:
            j = i
            while j < len(s) and s[j] not in ". \t":
                j += 1
            parts.append(s[i:j])
            i = j
    return parts

def toml_string(v):
    v = v.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
        return v[1:-1]
    return None

def top_level_lines(text):
    for line in text.splitlines():
        if HEADER.match(line) or line.lstrip().startswith("[["):
            return
        yield line

def cmd_containerd_inspect():
    # version=N|none, content=0|1, cri_disabled=<plugin>|'' for the top of the file.
    text = read_text(env("GVP_CONFIG"))
    version, content, top = "none", 0, []
    for line in text.splitlines():
        s = line.strip()
        if s and not s.startswith("#"):
            content = 1
    for line in top_level_lines(text):
        m = re.match(r"^\s*version\s*=\s*(\d+)\s*(#.*)?$", line)
        if m:
            version = m.group(1)
        top.append(line)
    disabled = ""
    m = re.search(r"(?ms)^\s*disabled_plugins\s*=\s*\[(.*?)\]", "\n".join(top))
    if m:
        names = re.findall(r"""["']([^"']*)["']""", m.group(1))
        for n in names:
            if n in ("cri", "io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime"):
                disabled = n
    print("version=%s" % version)
    print("content=%d" % content)
    print("cri_disabled=%s" % disabled)

def block_bounds(lines, name):
    begin, end = "# BEGIN pulumi-gvisor runtime " + name, "# END pulumi-gvisor runtime " + name
    b = [i for i, l in enumerate(lines) if l.rstrip("\r\n") == begin]
    e = [i for i, l in enumerate(lines) if l.rstrip("\r\n") == end]
    if not b and not e:
        return None
    if len(b) != 1 or len(e) != 1 or e[0] < b[0]:
        die("the pulumi-gvisor block for runtime %s is damaged (its BEGIN/END marker lines are missing, "
            "repeated or out of order)" % name)
    return b[0], e[0]

def cmd_containerd_block():
    # GVP_MODE=put|remove. exit 0: wrote GVP_OUT; exit 3: result equals the input.
    src, name, mode = env("GVP_CONFIG"), env("GVP_RUNTIME"), env("GVP_MODE")
    text = read_text(src) if os.path.exists(src) else ""
    lines = text.splitlines(True)
    bounds = block_bounds(lines, name)
    if mode == "remove":
        if bounds is None:
            sys.exit(3)
        before, after = lines[:bounds[0]], lines[bounds[1] + 1:]
        if not after and before and before[-1].strip() == "":
            before = before[:-1]
        new = "".join(before + after)
    else:
        body = env("GVP_BLOCK").strip("\n")
        block = ["# BEGIN pulumi-gvisor runtime %s\n" % name,
                 "# Managed by pulumi-gvisor: edits inside this block are replaced on the next run.\n"]
        if env("GVP_VERSION_LINE", ""):
            block.append("version = %s\n" % env("GVP_VERSION_LINE"))
        block += [l + "\n" for l in body.split("\n")]
        block.append("# END pulumi-gvisor runtime %s\n" % name)
        if bounds is not None:
            new = "".join(lines[:bounds[0]] + block + lines[bounds[1] + 1:])
        else:
            head = text
            if head and not head.endswith("\n"):
                head += "\n"
            if head.strip() and not head.endswith("\n\n"):
                head += "\n"
            new = head + "".join(block)
    if new == text and os.path.exists(src):
        sys.exit(3)
    write_text(env("GVP_OUT"), new)

def is_cri_plugin(name):
    # Where CRI runtimes live: containerd 1.x (config version 2), 2.x (3 and 4).
    return name in ("io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime")

def dump_sections(path):
    # A `containerd config dump` as [(table path, header line, body lines)].
    out = []
    for line in read_text(path).splitlines():
        m = HEADER.match(line)
        if m:
            out.append((split_key(m.group(1)), line, []))
        elif out:
            out[-1][2].append(line)
    return out

def dump_value(body, key):
    for line in body:
        m = KEYVAL.match(line)
        if m and split_key(m.group(1))[0] == key:
            return toml_string(m.group(2)) or ""
    return None

def runtime_tables(sections, name):
    # The sections of CRI runtime `name`: [plugins, <cri>, containerd, runtimes, name, ...].
    return [s for s in sections if len(s[0]) >= 5 and s[0][0] == "plugins" and is_cri_plugin(s[0][1])
            and s[0][2:4] == ["containerd", "runtimes"] and s[0][4] == name]

def cmd_containerd_dump_check():
    # Runtime GVP_RUNTIME in a `containerd config dump`, the CRI plugin's
    # default runtime (default_runtime_name) and whether the dump defines it,
    # and the gRPC address the daemon serves on.
    sections = dump_sections(env("GVP_DUMP"))
    found, rtype, cpath, default, address = 0, "", "", "runc", "/run/containerd/containerd.sock"
    for p, _, body in runtime_tables(sections, env("GVP_RUNTIME")):
        if len(p) == 5:
            found, rtype = 1, dump_value(body, "runtime_type") or ""
        elif p[5:] == ["options"]:
            cpath = dump_value(body, "ConfigPath") or ""
    for p, _, body in sections:
        if len(p) == 3 and p[0] == "plugins" and is_cri_plugin(p[1]) and p[2] == "containerd":
            default = dump_value(body, "default_runtime_name") or default
        elif p == ["grpc"]:
            address = dump_value(body, "address") or address
    print("found=%d" % found)
    print("runtime_type=%s" % rtype)
    print("config_path=%s" % cpath)
    print("default_runtime=%s" % default)
    # Defined with a runtime_type: an options table alone (an admin's
    # SystemdCgroup) makes containerd 1.x dump the runtime with an empty one.
    typed = [p for p, _, body in runtime_tables(sections, default) if len(p) == 5 and dump_value(body, "runtime_type")]
    print("default_found=%d" % (1 if typed else 0))
    print("address=%s" % address)

def cmd_containerd_runtime_tables():
    # Prints the table that keeps runtime GVP_RUNTIME on containerd 1.x: its
    # header as dumped and its runtime_type, nothing else (every other key,
    # and the .options sub-table, is containerd's built-in default, and an
    # admin may define the options table outside our block); exit 3 when the
    # dump has no typed table under plugin GVP_PLUGIN (the form the file is
    # written in).
    for p, header, body in runtime_tables(dump_sections(env("GVP_DUMP")), env("GVP_RUNTIME")):
        rtype = dump_value(body, "runtime_type")
        if len(p) == 5 and p[1] == env("GVP_PLUGIN") and rtype:
            print(header.strip())
            print("  runtime_type = %s" % json.dumps(rtype))
            return
    sys.exit(3)

def cmd_runsc_toml_check():
    # exit 0 valid (or cannot check); 4 invalid. Prints "checked" or "unchecked".
    try:
        import tomllib
    except ImportError:
        print("unchecked")
        return
    try:
        doc = tomllib.loads(env("GVP_TOML"))
    except tomllib.TOMLDecodeError as e:
        die("the plan's runsc.toml is not valid TOML (%s)" % e)
    rc = doc.get("runsc_config", {})
    if not isinstance(rc, dict):
        die("runsc.toml: [runsc_config] is not a table")
    for k, v in rc.items():
        if not isinstance(v, str):
            die('runsc.toml: runsc_config.%s must be a quoted string (e.g. %s = "%s"); the shim rejects other types'
                % (k, k, str(v).lower()))
    print("checked")

def containerd_pids(config):
    want = os.path.realpath(config)
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % pid) as f:
                if f.read().strip() != "containerd":
                    continue
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().decode("utf-8", "replace").split("\0")
        except OSError:
            continue
        cfg = "/etc/containerd/config.toml"
        for i, a in enumerate(argv):
            if a in ("--config", "-c") and i + 1 < len(argv):
                cfg = argv[i + 1]
            elif a.startswith("--config="):
                cfg = a.split("=", 1)[1]
        if os.path.realpath(cfg) == want:
            pids.append(int(pid))
    return pids

def cmd_containerd_running():
    # exit 0 when a containerd process reads GVP_CONFIG.
    sys.exit(0 if containerd_pids(env("GVP_CONFIG")) else 1)

def cmd_containerd_stale():
    # exit 0 when a containerd reading GVP_CONFIG started before its last write.
    config = env("GVP_CONFIG")
    try:
        mtime = os.stat(config).st_mtime
        with open("/proc/stat") as f:
            btime = int([l.split()[1] for l in f if l.startswith("btime ")][0])
    except (OSError, IndexError):
        sys.exit(1)
    hz = os.sysconf("SC_CLK_TCK")
    for pid in containerd_pids(config):
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        started = btime + int(fields[19]) / float(hz)
        if started < mtime - 1:
            sys.exit(0)
    sys.exit(1)

# -- verify -------------------------------------------------------------------
def docker_error(stderr, rc):
    lines = [l.strip() for l in stderr.splitlines() if l.strip()]
    for l in lines:
        m = re.search(r"flag provided but not defined: -+[^\s:;,\"']+", l)
        if m:
            return m.group(0)
    for l in lines:
        if l.startswith("docker: "):
            l = l[len("docker: "):]
            return l if len(l) <= 300 else l[:297] + "..."
    if rc == "124":
        return "timed out"
    if lines:
        return lines[-1][:300]
    return "docker exited with status %s" % rc

def cmd_verify_doc():
    # Prints the verification document; exit 0 isolated, 1 not isolated.
    host_kernel = env("GVP_HOST_KERNEL")
    failures = []
    # Types follow src/plan/verification.ts: strings and booleans are never
    # null ("" and false when unknown); only "error" and "containerd" may be.
    runsc_version = env("GVP_RUNSC_VERSION", "")
    if not runsc_version:
        failures.append("runsc: not installed or does not run at %s" % env("GVP_RUNSC_PATH"))
    runtimes = []
    if env("GVP_DOCKER_ENABLED") == "true":
        name = env("GVP_DOCKER_RUNTIME")
        label = "docker/" + name
        runsc = env("GVP_RUNSC_PATH")
        path = env("GVP_DOCKER_RUNTIME_PATH", "")
        r = {"engine": "docker", "name": name, "ran": False, "sandboxKernel": "",
             "kallsymsHidden": False, "runtimePath": path,
             "sandboxProcess": env("GVP_DOCKER_SANDBOX_PID", "") != "", "error": None}
        kallsyms = None
        pre = env("GVP_DOCKER_PRE_ERROR", "")
        if pre:
            r["error"] = pre
        else:
            rc = env("GVP_DOCKER_RC")
            out = read_text(env("GVP_DOCKER_OUT")).splitlines()
            err = read_text(env("GVP_DOCKER_ERR"))
            diag = env("GVP_DOCKER_DIAG", "")
            if rc != "0":
                r["error"] = "container did not start: " + (diag or docker_error(err, rc))
            else:
                r["ran"] = True
                kern = out[0].strip() if out else ""
                r["sandboxKernel"] = kern
                ks = [l.strip() for l in out if l.startswith("kallsyms=")]
                if ks:
                    kallsyms = (ks[0] == "kallsyms=hidden")
                    r["kallsymsHidden"] = kallsyms
                if not path or os.path.realpath(path) != os.path.realpath(runsc):
                    r["error"] = ("dockerd's runtime %s runs %s, not the installed %s"
                                  % (name, path or "nothing it reports", runsc))
                elif not r["sandboxProcess"]:
                    r["error"] = ("no process of the installed %s served the probe container, "
                                  "so it did not run under gVisor" % runsc)
                elif not kern:
                    r["error"] = "the container printed no kernel version"
                elif kern == host_kernel:
                    r["error"] = ("the container reports the host kernel %s, so it is not running under gVisor"
                                  % kern)
                elif kallsyms is None:
                    r["error"] = "the container did not report whether /proc/kallsyms is readable"
                elif not kallsyms:
                    r["error"] = "/proc/kallsyms is readable in the container, so it is not running under gVisor"
        if r["error"]:
            failures.append("%s: %s" % (label, r["error"]))
        runtimes.append(r)
    ctd = None
    if env("GVP_CTD_ENABLED") == "true":
        v = env("GVP_CTD_VERSION", "")
        ctd = {"enabled": True, "configVersion": int(v) if v.isdigit() else 0,
               "runtimeConfigured": env("GVP_CTD_ERROR", "") == ""}
        if not ctd["runtimeConfigured"]:
            failures.append("containerd/%s: %s" % (env("GVP_CTD_RUNTIME"), env("GVP_CTD_ERROR")))
    if env("GVP_DOCKER_ENABLED") != "true" and env("GVP_CTD_ENABLED") != "true":
        failures.append("no engine is enabled (Docker and containerd are both off), so isolation was not checked")
    doc = {"schemaVersion": 2, "runscVersion": runsc_version, "arch": env("GVP_ARCH"),
           "hostKernel": host_kernel, "runtimes": runtimes, "containerd": ctd,
           "isolated": not failures, "failures": failures}
    # The sandbox cost figures (verify.measureOverhead) make it a schema 3
    # document; figures that do not parse are left out, never fail verify.
    overhead = env("GVP_OVERHEAD", "")
    if overhead:
        try:
            doc["overhead"] = json.loads(overhead)
            doc["schemaVersion"] = 3
        except ValueError as e:
            sys.stderr.write("pulumi-gvisor verify: warning: the sandbox cost figures are left out: %s\n" % e)
    sys.stdout.write(json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n")
    sys.exit(0 if not failures else 1)

def cmd_runsc_process():
    # Prints the pid of a process whose executable is the installed runsc (or
    # a gvisor-bin/ sidecar next to it) and whose arguments name container
    # GVP_CID; exit 3 when there is none.
    cid = env("GVP_CID")
    runsc = os.path.realpath(env("GVP_RUNSC_PATH"))
    sidecars = os.path.realpath(os.path.join(env("GVP_DIR"), "gvisor-bin")) + "/"
    if len(cid) < 12:
        sys.exit(3)
    for pid in sorted((p for p in os.listdir("/proc") if p.isdigit()), key=int):
        try:
            exe = os.readlink("/proc/%s/exe" % pid)
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                args = f.read().decode("utf-8", "replace").split("\0")
        except OSError:
            continue
        if (exe == runsc or exe.startswith(sidecars)) and any(cid in a for a in args):
            print(pid)
            return
    sys.exit(3)

def cmd_first_failure():
    with open(env("GVP_FILE"), encoding="utf-8") as f:
        failures = json.load(f).get("failures") or [""]
    print(failures[0])

# Subcommand "x-y" runs cmd_x_y. Looked up by name (no table of them) so
# the renderer can drop the ones a step never runs.
if __name__ == "__main__":
    command = globals().get("cmd_" + sys.argv[1].replace("-", "_"))
    if command is None:
        die("pulumi-gvisor: the python helper has no command %r" % sys.argv[1])
    # Expected refusals exit through die(); anything else becomes one line too
    # (a full disk, a missing file), never a traceback.
    try:
        command()
    except OSError as e:
        die("%s%s" % (e.strerror or e, " (%s)" % e.filename if e.filename else ""), 4)
    except (ValueError, KeyError, TypeError) as e:
        die("the python helper failed in %s: %s" % (sys.argv[1], e), 70)
