// Drives the official openai Node SDK for compat-suite: reads one job (JSON) on stdin, makes each
// call, and prints one JSON object with what the SDK parsed or the error class it raised.
// Keys arrive on stdin, never on the command line, and are never printed.
import OpenAI from "openai";
import { VERSION } from "openai/version";

async function readStdin() {
  const parts = [];
  for await (const part of process.stdin) parts.push(part);
  return JSON.parse(Buffer.concat(parts).toString("utf8"));
}

function describeError(err) {
  return {
    class: err?.constructor?.name ?? typeof err,
    status: typeof err?.status === "number" ? err.status : null,
    message: String(err?.message ?? err).slice(0, 500),
  };
}

async function runCall(client, call) {
  switch (call.kind) {
    case "chat":
      return summarise(parsed(await client.chat.completions.create(call.body)));
    case "chat_stream":
    case "completions_stream": {
      const create = call.kind === "chat_stream"
        ? client.chat.completions.create({ ...call.body, stream: true })
        : client.completions.create({ ...call.body, stream: true });
      const stream = await create;
      const chunks = [];
      let text = "";
      for await (const chunk of stream) {
        chunks.push(chunk);
        for (const choice of chunk.choices ?? []) {
          text += choice.delta?.content ?? choice.text ?? "";
        }
      }
      const last = chunks.at(-1);
      return { chunks: chunks.length, text, ids: [...new Set(chunks.map((c) => c.id))], usage: last?.usage ?? null };
    }
    case "completions":
      return summarise(parsed(await client.completions.create(call.body)));
    case "embeddings": {
      const res = parsed(await client.embeddings.create(call.body));
      return {
        object: res.object,
        count: res.data.length,
        dims: res.data.map((d) => (Array.isArray(d.embedding) ? d.embedding.length : String(d.embedding).length)),
        usage: res.usage ?? null,
      };
    }
    case "models": {
      const ids = [];
      for await (const model of client.models.list()) ids.push(model.id);
      return { ids };
    }
    case "model":
      return summarise(parsed(await client.models.retrieve(call.body.model)));
    case "responses":
      return summariseResponse(parsed(await client.responses.create(call.body)));
    case "responses_stream": {
      const stream = client.responses.stream(call.body);
      let events = 0;
      for await (const _ of stream) events += 1;
      return { ...summariseResponse(await stream.finalResponse()), events };
    }
    case "responses_retrieve":
    case "responses_input_items":
      return withStoredResponse(client, call, async (created) => {
        if (call.kind === "responses_retrieve") {
          const got = parsed(await client.responses.retrieve(created.id));
          return { ...summariseResponse(got), created_id: created.id };
        }
        const items = [];
        for await (const item of client.responses.inputItems.list(created.id, { order: "asc" })) items.push(item.id);
        return { id: created.id, items };
      });
    case "responses_delete": {
      const created = parsed(await client.responses.create(call.body));
      await client.responses.delete(created.id);
      try {
        await client.responses.retrieve(created.id);
      } catch (err) {
        if (err instanceof OpenAI.NotFoundError) return { id: created.id, deleted: true };
        throw err;
      }
      throw new Error(`response ${created.id} was still retrieved after responses.delete`);
    }
    default:
      throw new Error(`unknown call kind ${call.kind}`);
  }
}

// The SDK hands back a unary body as a string where it does not take the Content-Type for JSON:
// that is a response it did not parse, and a failure of the call.
function parsed(res) {
  if (res === null || typeof res !== "object") {
    throw new TypeError(`the SDK handed back the response unparsed (a ${res === null ? "null" : typeof res})`);
  }
  return res;
}

// Create a response, hand it to `use`, and delete it again whatever `use` did (clean-up only).
async function withStoredResponse(client, call, use) {
  const created = parsed(await client.responses.create(call.body));
  try {
    return await use(created);
  } finally {
    await client.responses.delete(created.id).catch(() => {});
  }
}

function summariseResponse(res) {
  // output_text is the SDK's convenience; the stream helper's final response may lack it
  const text = res.output_text ?? (res.output ?? []).filter((item) => item.type === "message")
    .flatMap((item) => item.content ?? []).filter((part) => part.type === "output_text")
    .map((part) => part.text).join("");
  return { object: res.object ?? null, id: res.id ?? null, status: res.status ?? null, text, usage: res.usage ?? null };
}

function summarise(res) {
  const out = { object: res.object ?? null, id: res.id ?? null, usage: res.usage ?? null };
  if (Array.isArray(res.choices)) {
    out.choices = res.choices.map((c) => ({
      index: c.index,
      finish_reason: c.finish_reason ?? null,
      text: c.message?.content ?? c.text ?? null,
    }));
  }
  return out;
}

const job = await readStdin();
const client = new OpenAI({
  baseURL: job.base_url,
  apiKey: job.api_key ?? "sk-none",
  maxRetries: 0,
  timeout: job.timeout_ms ?? 60000,
  defaultHeaders: job.headers ?? {},
});
const results = [];
for (const call of job.calls) {
  try {
    results.push({ id: call.id, ok: true, result: await runCall(client, call) });
  } catch (err) {
    results.push({ id: call.id, ok: false, error: describeError(err) });
  }
}
process.stdout.write(JSON.stringify({ sdk: "openai-node", version: VERSION, results }) + "\n");
