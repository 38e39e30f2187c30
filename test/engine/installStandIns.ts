/**
 * Installs the stand-in provider plugins (providers/) into $PULUMI_HOME (default ~/.pulumi), for a
 * development machine that cannot download the real ones, so that `npm run up` runs there:
 * `node --import tsx test/engine/installStandIns.ts`. Never on a machine that deploys for real:
 * `pulumi plugin rm resource <name> <version>` removes them again (docs/engine.md).
 */
import { execFileSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { installPlugins } from "./engine";
import { PLUGINS } from "../../stand-ins/plugins/plugin";

const root = path.resolve(__dirname, "..", "..");
const binDir = execFileSync("bash", [path.join(root, "scripts", "engine.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
const home = process.env.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi");
installPlugins(
    binDir,
    home,
    PLUGINS.map((p) => ({ ...p, kind: "stand-in" as const })),
);
console.log(`installed stand-ins for ${PLUGINS.map((p) => `${p.name} ${p.version}`).join(", ")} into ${home}`);
