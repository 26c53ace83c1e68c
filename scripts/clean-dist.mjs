// Starts every build from an empty dist/, so a file deleted from src/ never
// lingers in the published package.
import { rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
