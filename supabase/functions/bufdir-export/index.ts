import { createHandler, depsFromEnv } from "./handler.ts";

if (import.meta.main) {
  Deno.serve(createHandler(depsFromEnv(Deno.env)));
}
