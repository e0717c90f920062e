// Replays one recorded response into the official Node SDK and prints a one-line JSON verdict:
// {ok: true, parsed, items} (what the SDK handed back) or {ok: false, error, message, api_error, seen, ...}.
// A chat stream that offered tools goes through the SDK's stream() helper, which accumulates the calls
// by index as a tools user's client does; `seen` counts the chunks it took before it failed. A
// Responses stream goes through its stream() helper, which accumulates the events into the response.
// Input (stdin): {path, method, query, body, stream, status, headers, response_b64, base_url}. No socket is opened.
const OpenAI = require("openai");

function kind(value) {
  if (value === null) return "null";
  return Array.isArray(value) ? "array" : typeof value;
}

async function main() {
  const job = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const bytes = Buffer.from(job.response_b64, "base64");
  const fetchRecorded = async () => new Response(bytes, { status: job.status, headers: job.headers });
  const client = new OpenAI({ apiKey: "recorded", baseURL: job.base_url, fetch: fetchRecorded, maxRetries: 0 });
  let seen = 0;
  try {
    // What the SDK handed back: a unary answer must come back parsed (an object), not as its text;
    // a list as the items it yields, which the check compares with the body.
    let parsed = "object";
    let items = null;
    if (job.path.startsWith("/models")) {
      const id = job.path.slice("/models/".length);
      if (id) parsed = kind(await client.models.retrieve(id));
      else {
        items = 0;
        for await (const _ of client.models.list()) items += 1;
      }
    } else if (job.stream && job.path === "/chat/completions" && (job.body.tools || []).length) {
      const runner = client.chat.completions.stream(job.body);
      runner.on("chunk", () => { seen += 1; });
      try {
        await runner.finalChatCompletion();
      } catch (err) {
        // No chunk at all is the stream checks' finding, not the accumulator's: read it plainly.
        if (seen > 0 || !/without sending any chunks/.test(String(err && err.message))) throw err;
        const plain = await client.post(job.path, { body: job.body, stream: true });
        for await (const _ of plain) { /* consume every chunk */ }
      }
    } else if (job.path.startsWith("/responses")) {
      const [id, tail] = job.path.slice("/responses".length).replace(/^\/+/, "").split("/");
      if (!id && job.stream) {
        // the stream() helper: every event accumulated into the response, as users get it
        const { stream: _stream, ...params } = job.body;
        const events = client.responses.stream(params);
        for await (const _ of events) seen += 1;
        await events.finalResponse();
      } else if (!id) {
        parsed = kind(await client.responses.create(job.body));
      } else if (tail === "input_items") {
        const page = await client.responses.inputItems.list(id, { order: job.query.order ?? "desc" });
        items = page.data.length; // the first page only: a hostile has_more must not loop
      } else if (job.method === "DELETE") {
        await client.responses.delete(id);
      } else {
        parsed = kind(await client.responses.retrieve(id));
      }
    } else {
      const result = await client.post(job.path, { body: job.body, stream: job.stream });
      if (job.stream) for await (const _ of result) { /* consume every chunk */ }
      else parsed = kind(result);
    }
    console.log(JSON.stringify({ ok: true, parsed, items }));
  } catch (err) {
    const apiError = err instanceof OpenAI.APIError;
    console.log(JSON.stringify({
      ok: false,
      error: (err && err.constructor && err.constructor.name) || "Error",
      message: String((err && err.message) || err),
      api_error: apiError,
      seen,
      api_status_error: apiError && typeof err.status === "number",
    }));
  }
}

main().catch((err) => { console.error(String(err)); process.exit(2); });
