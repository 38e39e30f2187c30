/** What every container of the program shares (`serviceContainer.ts`), the `docker` CLI against a host (`dockerCli.ts`), and a container's last log lines. */
export { lastLogLines } from "./containerLogs";
export { dockerCliCommand } from "./dockerCli";
export { memoryLimit, SERVICE_CONTAINER, serviceContainer } from "./serviceContainer";
