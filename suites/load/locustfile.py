"""LLM load scenarios for locust: what an OpenAI-compatible endpoint sees from its users.

Run it through `compat-suite load` (which sets the options and builds load.json), or directly with
locust, standalone or distributed (see suites/load/README.md), the target in the environment:

    COMPAT_MODEL=scripted-chat COMPAT_API_KEY=... \
        locust -f suites/load/locustfile.py --headless -u 8 -t 30s --host http://127.0.0.1:8000/v1 ChatStream

Each request is timed where its bytes arrive (TTFB, first event, TTFT, ITL, E2E) and shipped to
the master as raw samples; the machinery lives in compat_suite/load/.
"""

from locust import constant, task

from compat_suite.load.users import LLMUser, OpenLoopUser


class ChatStream(LLMUser):
    """A user who chats with streaming on, and reads each answer to the end before asking again."""

    wait_time = constant(0)

    @task
    def chat_stream(self) -> None:
        self.turn("chat-stream")


class Chat(LLMUser):
    """A user who waits for whole chat answers (no streaming)."""

    wait_time = constant(0)

    @task
    def chat(self) -> None:
        self.turn("chat")


class Completions(LLMUser):
    """A user of the legacy completions endpoint, streamed."""

    wait_time = constant(0)

    @task
    def completions(self) -> None:
        self.turn("completions")


class Embeddings(LLMUser):
    """A user who embeds each prompt."""

    wait_time = constant(0)

    @task
    def embeddings(self) -> None:
        self.turn("embeddings")


class Mix(LLMUser):
    """The weighted mix: mostly streamed chat, some whole answers, completions and embeddings."""

    wait_time = constant(0)
    tasks = {  # noqa: RUF012 - locust's own class attribute
        ChatStream.chat_stream: 6,
        Chat.chat: 2,
        Completions.completions: 1,
        Embeddings.embeddings: 1,
    }


class OpenLoop(OpenLoopUser):
    """Requests on a schedule (--llm-rate, --llm-arrival), whatever the server's pace; same mix weights."""

    kinds = {"chat-stream": 6, "chat": 2, "completions": 1, "embeddings": 1}  # noqa: RUF012
