"""Cut a post's sub-tokens into overlapping windows the encoder can take, and say which window scores each word.

The encoder sees at most `max_length` sub-tokens; a longer post used to be cut there, so every
entity after the first ~100 words was silently lost. Windows cover the whole post at word
boundaries; consecutive windows overlap so that every word is scored with context on both sides,
and each word in an overlap takes the scores of the window whose middle it is nearer to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    first_word: int  # words [first_word, stop_word) are encoded
    stop_word: int
    first_token: int  # their sub-tokens [first_token, stop_token) in the post's sub-token sequence
    stop_token: int
    keep_from: int  # words [keep_from, keep_to) take their scores from this window
    keep_to: int


def word_token_bounds(word_ids: Sequence[int | None], n_words: int) -> list[tuple[int, int]]:
    """(first, stop) sub-token positions per word; a word without sub-tokens gets an empty range where it sits."""
    bounds: list[list[int]] = [[-1, -1] for _ in range(n_words)]
    for position, word in enumerate(word_ids):
        if word is None:
            continue
        if bounds[word][0] < 0:
            bounds[word][0] = position
        bounds[word][1] = position + 1
    cursor = 0
    for bound in bounds:  # empty words sit at the end of the word before them
        if bound[0] < 0:
            bound[0] = bound[1] = cursor
        cursor = bound[1]
    return [(first, stop) for first, stop in bounds]


def plan_windows(bounds: Sequence[tuple[int, int]], budget: int, overlap: int) -> list[Window]:
    """Windows of at most `budget` sub-tokens (a word longer than that gets a window of its own, cut by the
    encoder), each starting at least `overlap` sub-tokens before the previous one ends when the text goes on."""
    n_words = len(bounds)
    spans: list[tuple[int, int]] = []
    first = 0
    while first < n_words:
        stop = first + 1
        while stop < n_words and bounds[stop][1] - bounds[first][0] <= budget:
            stop += 1
        spans.append((first, stop))
        if stop >= n_words:
            break
        restart = stop  # the first word whose sub-tokens lie within `overlap` of the window's end
        while restart - 1 > first and bounds[stop - 1][1] - bounds[restart - 1][0] <= overlap:
            restart -= 1
        first = restart
    windows = []
    for index, (first, stop) in enumerate(spans):
        keep_from = 0 if index == 0 else (first + spans[index - 1][1] + 1) // 2
        keep_to = n_words if index == len(spans) - 1 else (spans[index + 1][0] + stop + 1) // 2
        windows.append(Window(first, stop, bounds[first][0], bounds[stop - 1][1], keep_from, keep_to))
    return windows
