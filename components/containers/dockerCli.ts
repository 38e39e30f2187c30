/**
 * The `docker` CLI against a Docker host, with that host's ssh arguments (`dockerSshOpts`,
 * `replicaHosts[].sshOpts`). The CLI reaches an `ssh://` host through `ssh` from `PATH` and takes
 * no ssh arguments of its own, so with arguments it runs under a shell that puts first on `PATH` a
 * one-line `ssh` that adds them (in a private temporary folder, removed when the shell exits).
 * The Docker provider takes the same arguments itself.
 */
import { shQuote } from "../sh";

/** The variable that carries the ssh arguments, each quoted for the shell, to {@link renderSshWrapper}. */
const SSH_ARGS = "PRIVATE_REGISTRY_SSH_ARGS";

/** `DOCKER_HOST`, and the host's ssh arguments when it has any. */
export function dockerCliEnv(host: string, sshOpts: readonly string[]): Record<string, string> {
    return sshOpts.length > 0 ? { DOCKER_HOST: host, [SSH_ARGS]: sshOpts.map(shQuote).join(" ") } : { DOCKER_HOST: host };
}

/**
 * Shell lines for the start of a script that runs `docker`: when the environment carries ssh
 * arguments, an `ssh` that adds them comes first on `PATH` for the rest of the script.
 */
export function renderSshWrapper(): string {
    return [
        `if [ -n "\${${SSH_ARGS}:-}" ]; then`,
        '  real_ssh=$(command -v ssh) || { echo "private-registry: ssh is not installed on this machine (the docker CLI reaches an ssh:// host through it)" >&2; exit 1; }',
        // The wrapper is a script of its own: the real ssh's path goes into it in single quotes.
        `  case $real_ssh in *"'"*) echo "private-registry: cannot wrap ssh at $real_ssh (a quote in its path)" >&2; exit 1 ;; esac`,
        "  ssh_dir=$(mktemp -d)",
        `  trap 'rm -rf "$ssh_dir"' EXIT`,
        // A here-document expands each variable once and does not re-read the result: the quoted arguments are written as they are.
        '  cat > "$ssh_dir/ssh" <<WRAPPER',
        "#!/bin/sh",
        `exec '$real_ssh' $${SSH_ARGS} "\\$@"`,
        "WRAPPER",
        '  chmod 700 "$ssh_dir/ssh"',
        '  PATH="$ssh_dir:$PATH"',
        "  export PATH",
        "fi",
    ].join("\n");
}

/** What to spawn for `docker <args>` against `host`: the CLI itself, or with ssh arguments a shell that adds them. */
export function dockerCliCommand(
    host: string,
    sshOpts: readonly string[],
    args: readonly string[],
): { file: string; args: string[]; env: Record<string, string> } {
    const env = dockerCliEnv(host, sshOpts);
    if (sshOpts.length === 0) return { file: "docker", args: [...args], env };
    // Not `exec docker`: the shell stays to remove the wrapper when docker ends, with docker's status.
    return { file: "/bin/sh", args: ["-c", `set -eu\n${renderSshWrapper()}\ndocker "$@"`, "sh", ...args], env };
}

/** The label the program's load balancer container carries, so that nothing else of that name is ever removed for it. */
export const BALANCER_LABEL = { label: "private-registry.role", value: "balancer" } as const;

/**
 * Removes the program's load balancer container `$BALANCER` (by name and {@link BALANCER_LABEL})
 * when one is there: going from several replicas to one, the single registry takes the endpoint's
 * port and addresses, which the balancer holds until the engine deletes it at the end of the `up`.
 * The engine's later delete finds it gone, which the docker provider accepts.
 */
export function renderRetireBalancer(): string {
    return [
        "set -eu",
        renderSshWrapper(),
        `id=$(docker ps -aq --filter "name=^/$BALANCER$" --filter "label=${BALANCER_LABEL.label}=${BALANCER_LABEL.value}")`,
        'if [ -n "$id" ]; then docker rm -f "$id" >/dev/null; echo "private-registry: removed the load balancer $BALANCER: the single registry takes its port"; fi',
    ].join("\n");
}
