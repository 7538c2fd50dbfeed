"""Fixed-shape tokens: Yelp's detect-secrets plugins, plus the shapes it does not know yet.

The plugins' own regexes find the value (``analyze_string``: ``analyze_line`` may call the
vendor's API to verify a candidate, which would send the secret over the network). Left out,
by the false-positive measurement on the APISIX docs (docs/measurements.md): the two
high-entropy plugins (tens of thousands of hits on ordinary words and numbers), the keyword
plugin (``keywords.py`` does that with placeholders kept, and it is the slowest plugin by far),
public IPs (not secrets) and private keys (``private_keys.py`` redacts the whole block).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from detect_secrets.plugins.artifactory import ArtifactoryDetector
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

from .placeholders import is_placeholder

Span = tuple[int, int]

# Each plugin with the literals (lower case) one of which a line must hold for the plugin's
# regexes to match; None: no such literal. Checked against the plugins' patterns in the tests,
# so a detect-secrets update that changes a pattern shows up there.
PLUGINS: dict[type[RegexBasedDetector], tuple[str, ...] | None] = {
    AWSKeyDetector: ("a3t", "abia", "acca", "akia", "asia", "aws"),
    ArtifactoryDetector: ("akc", "ap"),
    AzureStorageKeyDetector: ("accountkey=",),
    BasicAuthDetector: ("://",),
    DiscordBotTokenDetector: None,
    GitHubTokenDetector: ("gh",),
    GitLabTokenDetector: ("gl", "gr1348941"),
    JwtTokenDetector: ("eyj",),
    MailchimpDetector: ("-us",),
    NpmDetector: ("_authtoken=",),
    OpenAIDetector: ("t3blbkfj",),
    PypiTokenDetector: ("pypi-",),
    SendGridDetector: ("sg.",),
    SlackDetector: ("xox", "hooks.slack.com"),
    SquareOAuthDetector: ("sq0csp-",),
    StripeDetector: ("k_live_",),
    TelegramBotTokenDetector: (":",),
    TwilioKeyDetector: ("ac", "sk"),
}
_DETECTORS = [(cls(), frozenset(hints) if hints else None) for cls, hints in PLUGINS.items()]

# Token shapes detect-secrets 1.5 lacks (each a vendor's documented prefix and length), with
# the literal (lower case) each needs. ASCII: a CJK character next to a token is a word
# boundary ("令牌是sk-...").
SUPPLEMENT: dict[str, tuple[str, re.Pattern[str]]] = {
    name: (hint, re.compile(pattern, re.ASCII)) for name, (hint, pattern) in {
        "GitHub fine-grained token": ("github_pat_", r"\bgithub_pat_[A-Za-z0-9_]{22,255}"),
        "OpenAI / Anthropic key": (
            "sk-", r"\bsk-(?:proj-|svcacct-|admin-|ant-[a-z]+\d*-)?[A-Za-z0-9_-]{20,400}"),
        "Google API key": ("aiza", r"\bAIza[0-9A-Za-z_-]{35}"),
        "Google OAuth client secret": ("gocspx-", r"\bGOCSPX-[A-Za-z0-9_-]{20,40}"),
        "Google OAuth access token": ("ya29.", r"\bya29\.[0-9A-Za-z_-]{20,2048}"),
        "Hugging Face token": ("hf_", r"\bhf_[A-Za-z0-9]{30,64}"),
        "npm token": ("npm_", r"\bnpm_[A-Za-z0-9]{36}"),
        "Stripe test key": ("k_test_", r"\b[rs]k_test_[0-9A-Za-z]{24,247}"),
        "Slack app token": ("xapp-", r"\bxapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+"),
        "Slack config token": ("xoxe", r"\bxoxe(?:\.xox[bp])?-\d-[A-Za-z0-9]{20,300}"),
        "Discord webhook": ("/api/webhooks/", r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com"
                                              r"/api/webhooks/\d+/[\w-]+"),
        "Mailgun key": ("key-", r"\bkey-[0-9a-f]{32}\b"),
        "Azure AD client secret": ("q~", r"(?<![\w~.-])[\w~.-]{3}\dQ~[\w~.-]{31,34}(?![\w~.-])"),
        "GitLab runner token": ("glrt-", r"\bglrt-[A-Za-z0-9_-]{20,}"),
    }.items()}

# Where a token ends: the library's regexes match a fixed-length prefix of longer keys
# (Stripe's 24 characters of a 99-character key), so a hit runs on to the end of the token.
_TOKEN_TAIL = re.compile(r"[A-Za-z0-9_-]*")
_DELIMITERS = " \t\r\n'\"=:"
_USERINFO = re.compile(r"(?<=[A-Za-z0-9])://[^\s:/@'\"<>]{0,256}:(?P<value>[^\s@/'\"<>]{1,256})@")


def _present_hints(lowered: str) -> set[str]:
    """The plugins' literals in a lower-cased segment (overlapping ones too: "cl" in "clou")."""
    found: set[str] = set()
    for hints in PLUGINS.values():
        for hint in hints or ():
            if hint in lowered:
                found.add(hint)
    return found


def _match_span(match: re.Match[str]) -> Span:
    """The secret in a plugin's match: its groups, unless a group is the token's prefix
    (GitHub's ``(ghp|gho|...)_``), then the whole match, less leading delimiters."""
    groups = [match.span(i) for i in range(1, (match.re.groups or 0) + 1) if match.group(i)]
    if groups and groups[0][0] > match.start():
        return groups[0][0], groups[-1][1]
    start, text = match.start(), match.group()
    return start + len(text) - len(text.lstrip(_DELIMITERS)), start + len(text.rstrip(_DELIMITERS))


def _library_spans(segment: str, lowered: str) -> Iterator[Span]:
    """Spans of the plugins' matches. A plugin that filters its regexes' matches (the JWT
    plugin checks the parts decode) is asked for its values, found again in the segment."""
    present = _present_hints(lowered)
    for detector, hints in _DETECTORS:
        if hints is not None and not hints & present:
            continue
        if type(detector).analyze_string is not RegexBasedDetector.analyze_string:
            for value in detector.analyze_string(segment):
                start = segment.find(value)
                while start >= 0 and value:
                    yield start, start + len(value)
                    start = segment.find(value, start + len(value))
            continue
        for pattern in detector.denylist:
            for match in pattern.finditer(segment):
                yield _match_span(match)


def _userinfo_spans(segment: str) -> Iterator[Span]:
    """Passwords in URLs, also with an empty user (``redis://:pw@host``) or characters the
    basic-auth plugin does not take (``https://u:p*ss=1@host``); placeholders kept."""
    if "://" not in segment:
        return
    for match in _USERINFO.finditer(segment):
        if not is_placeholder(match.group("value")):
            yield match.span("value")


def token_spans(segment: str) -> list[Span]:
    """Spans of fixed-shape tokens in one line (or window of a long line), each run on to the
    end of its token."""
    spans: list[Span] = []
    lowered = segment.lower()
    for start, end in _library_spans(segment, lowered):
        if end - start < 4:
            continue
        if segment[end:end + 1] == "@" and is_placeholder(segment[start:end]):
            continue  # "://user:password@", "://admin:<pass>@"
        spans.append((start, _TOKEN_TAIL.match(segment, end).end()))  # type: ignore[union-attr]
    spans.extend(_userinfo_spans(segment))
    for hint, pattern in SUPPLEMENT.values():
        if hint in lowered:
            spans.extend(m.span() for m in pattern.finditer(segment))
    return spans
