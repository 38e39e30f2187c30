/** Images copied into the registry at `up`: `ImageImport` (a dynamic provider) and its pure parts (archives, the registry API, the copy). */
export { copyImage, type Destination, type ImageSource } from "./copy";
export { ImageImport, type ImageImportArgs } from "./imageImport";
