"""OpenAI generation semantics above the engine: parameters, stop sequences, `n`, usage, shapes.

Every engine gets these identically: a route turns a request body into a `Job` (`chat_job`,
`completion_job`), runs it (`run_unary` or `run_stream`), and shapes the result with the
`*_body` / `*_chunk` functions. Stop sequences are matched on the decoded text, and streamed text
that could still become a stop sequence is held back until it cannot, so that the streamed text
joined equals the unary text for the same request.
"""

from ._job import (
    DEFAULT_CHAT_MAX_TOKENS,
    DEFAULT_COMPLETION_MAX_TOKENS,
    MAX_COMPLETION_LOGPROBS,
    MAX_N,
    MAX_STOP_SEQUENCES,
    MAX_TOP_LOGPROBS,
    UNSUPPORTED_CHAT_PARAMS,
    UNSUPPORTED_COMPLETION_PARAMS,
    Job,
    chat_job,
    completion_job,
)
from ._run import ChoiceResult, Piece, StopMatcher, choice_pieces, collect, merge, run_stream, run_unary
from ._shape import (
    MIN_LOGPROB,
    ChatChoiceStream,
    chat_body,
    chat_chunk,
    chat_delta,
    chat_logprobs,
    chat_message,
    completion_body,
    completion_chunk,
    completion_logprobs,
    echo_tokens,
    fingerprint,
    finish_with_calls,
    new_id,
    now,
    tool_call_json,
    usage,
)

__all__ = [
    "DEFAULT_CHAT_MAX_TOKENS",
    "DEFAULT_COMPLETION_MAX_TOKENS",
    "MAX_COMPLETION_LOGPROBS",
    "MAX_N",
    "MAX_STOP_SEQUENCES",
    "MAX_TOP_LOGPROBS",
    "MIN_LOGPROB",
    "UNSUPPORTED_CHAT_PARAMS",
    "UNSUPPORTED_COMPLETION_PARAMS",
    "ChatChoiceStream",
    "ChoiceResult",
    "Job",
    "Piece",
    "StopMatcher",
    "chat_body",
    "chat_chunk",
    "chat_delta",
    "chat_job",
    "chat_logprobs",
    "chat_message",
    "choice_pieces",
    "collect",
    "completion_body",
    "completion_chunk",
    "completion_job",
    "completion_logprobs",
    "echo_tokens",
    "fingerprint",
    "finish_with_calls",
    "merge",
    "new_id",
    "now",
    "run_stream",
    "run_unary",
    "tool_call_json",
    "usage",
]
