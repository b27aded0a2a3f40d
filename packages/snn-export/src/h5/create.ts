import { StorageError } from "../errors.js";
import type { EngineName, Writer } from "./types.js";
import { TsWriter } from "./ts/writer.js";
import { WorkerWriter } from "./async/proxy.js";
import { H5Writer } from "./wasm/writer.js";

/** Creates (truncates) an HDF5 file for writing with the chosen engine. */
export async function createWriter(filePath: string, engine: EngineName = "ts", options: { swmr?: boolean; asyncWrite?: boolean } = {}): Promise<Writer> {
  if (engine === "ts") return options.asyncWrite ? WorkerWriter.create(filePath, options) : TsWriter.create(filePath, options);
  if (options.asyncWrite) throw new StorageError("HDF5_ERROR", `asyncWrite needs the "ts" write engine`);
  if (options.swmr) throw new StorageError("HDF5_ERROR", `enableSwmr needs the "ts" write engine`);
  if (engine === "h5wasm") return H5Writer.create(filePath);
  throw new StorageError("HDF5_ERROR", `unknown write engine ${JSON.stringify(engine)}; use "ts" or "h5wasm"`);
}
