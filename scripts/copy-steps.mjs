// The step bodies are shell files read at render time; ship them beside the
// compiled renderer so dist/ works exactly like src/.
import { cpSync, mkdirSync } from "node:fs";

mkdirSync("dist/scripts/steps", { recursive: true });
cpSync("src/scripts/steps", "dist/scripts/steps", { recursive: true, filter: (src) => !src.endsWith(".md") });
