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
    case "helpers":
      return await helpers(client, call.body);
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
    case "responses_parse": {
      // a json_schema text.format: the SDK parses the output text into output_parsed
      const res = parsed(await client.responses.parse(call.body));
      if (res.output_parsed == null) throw new Error(`responses.parse handed back nothing parsed: ${res.output_text}`);
      return { id: res.id, status: res.status, parsed: res.output_parsed };
    }
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

const PERSON = {
  type: "object",
  properties: { name: { type: "string" }, age: { type: "integer" }, city: { type: "string" } },
  required: ["name", "age", "city"],
  additionalProperties: false,
};
const WEATHER = {
  type: "object",
  properties: { city: { type: "string" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } },
  required: ["city", "unit"],
  additionalProperties: false,
};

// The SDK's structured-output helpers: parse (a strict json_schema, a strict tool), the stream()
// helper's final completion, and runTools (it runs the tool the model calls and sends the result back).
async function helpers(client, body) {
  const common = { model: body.model, max_tokens: body.max_tokens, temperature: 0 };
  const format = { type: "json_schema", json_schema: { name: "Person", schema: PERSON, strict: true } };
  const person = await client.chat.completions.parse({
    ...common,
    messages: [{ role: "user", content: body.person }],
    response_format: format,
  });
  const parsedPerson = person.choices[0].message.parsed;
  if (parsedPerson == null) throw new TypeError(`parse handed back no parsed content: ${person.choices[0].message.content}`);
  const tool = { type: "function", function: { name: "get_weather", description: "The weather forecast for a city.", parameters: WEATHER, strict: true } };
  const params = {
    ...common,
    messages: [{ role: "user", content: body.weather }],
    tools: [tool],
    tool_choice: { type: "function", function: { name: "get_weather" } },
  };
  const call = (await client.chat.completions.parse(params)).choices[0].message.tool_calls?.[0];
  if (call?.function?.parsed_arguments == null) throw new TypeError("parse handed back no call with parsed arguments");
  const final = await client.chat.completions.stream(params).finalChatCompletion();
  const streamed = final.choices[0].message.tool_calls?.[0];
  if (streamed?.function?.parsed_arguments == null) throw new TypeError("stream() accumulated no call with parsed arguments");
  const ran = [];
  const runner = client.chat.completions.runTools({
    ...common,
    messages: [{ role: "user", content: body.weather }],
    tools: [{
      type: "function",
      function: {
        name: "get_weather",
        parameters: WEATHER,
        parse: JSON.parse,
        function: (args) => { ran.push(args); return "Sunny and 24 degrees."; },
      },
    }],
  }, { maxChatCompletions: 3 });
  const content = await runner.finalContent();
  return {
    parsed: parsedPerson,
    arguments: call.function.parsed_arguments,
    streamed_arguments: streamed.function.parsed_arguments,
    tools_run: ran.length,
    final_content: content,
  };
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

// fetch with the suite's bounds: each exchange ends by its deadline (headers and body alike), and a
// body past max_body_bytes is an error, not a buffer that grows without end.
function boundedFetch(maxBytes, deadlineMs) {
  return async (url, init = {}) => {
    const deadline = AbortSignal.timeout(deadlineMs);
    const signal = init.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    const res = await fetch(url, { ...init, signal });
    if (!res.body) return res;
    const reader = res.body.getReader();
    let seen = 0;
    const capped = new ReadableStream({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          return;
        }
        seen += value.byteLength;
        if (seen > maxBytes) {
          await reader.cancel();
          controller.error(new Error(`body exceeded the suite's limit of ${maxBytes} bytes`));
          return;
        }
        controller.enqueue(value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
    return new Response(capped, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

const job = await readStdin();
const client = new OpenAI({
  baseURL: job.base_url,
  apiKey: job.api_key ?? "sk-none",
  maxRetries: 0,
  timeout: job.timeout_ms ?? 60000,
  defaultHeaders: job.headers ?? {},
  fetch: boundedFetch(job.max_body_bytes ?? 8 * 1024 * 1024, job.timeout_ms ?? 60000),
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
