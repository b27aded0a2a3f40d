/** The HDF5 layer: the only code that touches the engine. */
export { H5Writer } from "./wasm/writer.js";
export { H5Reader, hasHdf5Signature } from "./reader.js";
export { engineVersions, loadEngine } from "./wasm/engine.js";
export type { AppendColumn, AttrValue, Block, VirtualMapping, ColumnSpec, Compression, DatasetInfo, EngineName, StringColumn, Writer } from "./types.js";
export { createWriter } from "./create.js";
export { StorageReader, type StorageSize } from "./ts/storage.js";
