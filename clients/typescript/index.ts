// A typed client for the Sealpost API. The types in schema.d.ts are generated from the
// server's OpenAPI document (`npm run generate`); openapi-fetch makes the calls, so every
// path, parameter, body and answer is checked by the compiler against that document.
import createClient, { type Client, type ClientOptions } from "openapi-fetch";
import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths };

/** A client whose methods (GET, POST, …) take the API's paths and are typed by them. */
export type SealpostClient = Client<paths>;

export interface SealpostOptions {
  /** Where the API is served, e.g. "https://mail.example.org" (without /v1). */
  baseUrl: string;
  /** An API key, sent as `Authorization: Bearer <key>` on every request. */
  apiKey: string;
  /** Another fetch implementation, e.g. one with a proxy or custom TLS. */
  fetch?: ClientOptions["fetch"];
}

/** Makes a client for one Sealpost server and API key. */
export function createSealpostClient(options: SealpostOptions): SealpostClient {
  if (!options.apiKey) {
    throw new Error("createSealpostClient: apiKey is required");
  }
  return createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    headers: { Authorization: `Bearer ${options.apiKey}` },
    fetch: options.fetch,
  });
}
