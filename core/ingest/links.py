"""Retweets, quotes and replies: how each X payload names the post it shares, quotes or answers.

X cuts a retweet's own text ("RT @user: ... …", 140 characters in API v2 and v1.1); the whole
text and the photos are the original's, which v2 sends in `includes.tweets`, `twarc2 flatten`
inlines into `referenced_tweets`, and v1.1 nests as `retweeted_status`. A retweet is stored with
its original's text and photos and linked to it; quotes and replies keep their own text and are
linked to what they quote or answer. Links are native ids of the same source, so they hold
whether or not the linked post is (yet) stored.
"""

from __future__ import annotations

from typing import Any

from groundlens.records import Media, Post

# v2 referenced_tweets type -> the Post field holding the link
V2_LINKS = {"retweeted": "retweet_of", "quoted": "quote_of", "replied_to": "reply_to"}
# v1.1 (and archive) keys: the nested original object, or the id answered
V1_RETWEETED, V1_QUOTED, V1_REPLY_ID = "retweeted_status", "quoted_status", "in_reply_to_status_id_str"
STORED_ORIGINALS = ("retweet_of", "quote_of")  # the linked posts stored beside the post when the payload carries them


def _id(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def v2_references(tweet: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Post link field -> the `referenced_tweets` entry (with the inlined tweet, in twarc2 flatten output)."""
    found: dict[str, dict[str, Any]] = {}
    references = tweet.get("referenced_tweets")
    for reference in references if isinstance(references, list) else []:
        if isinstance(reference, dict) and reference.get("type") in V2_LINKS and _id(reference.get("id")):
            found.setdefault(V2_LINKS[reference["type"]], reference)
    return found


def v1_references(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The same for a v1.1 tweet: nested originals, and the id a reply answers (as a bare reference)."""
    found: dict[str, dict[str, Any]] = {}
    for field, key in (("retweet_of", V1_RETWEETED), ("quote_of", V1_QUOTED)):
        nested = record.get(key)
        if isinstance(nested, dict) and _id(nested.get("id_str") or nested.get("id")):
            found[field] = nested
    reply = _id(record.get(V1_REPLY_ID))
    if reply:
        found["reply_to"] = {"id_str": reply}
    return found


def export_references(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The same for a line of GroundLens's own JSONL export, which names each link by its native id."""
    return {field: {"id": value} for field in V2_LINKS.values() if (value := _id(record.get(field)))}


def reference_id(reference: dict[str, Any]) -> str | None:
    return _id(reference.get("id_str")) or _id(reference.get("id"))


def set_links(post: Post, references: dict[str, dict[str, Any]]) -> None:
    for field, reference in references.items():
        setattr(post, field, reference_id(reference))


def carries_post(reference: dict[str, Any]) -> bool:
    """A reference that holds the linked post itself (v1.1 nesting, flatten inlining), not only its id."""
    return any(key in reference for key in ("text", "full_text", "extended_tweet", "note_tweet"))


def share_original(retweet: Post, original: Post) -> None:
    """A retweet reads as its original: the whole text and the original's photos (its own are the same ones)."""
    retweet.text = original.text
    retweet.media = [Media(url=m.url, local_path=m.local_path, width=m.width, height=m.height) for m in original.media]
