"""Where a participant's questionnaire stands, worked out from the answers saved so far.

Per sample, in the participant's serving order: confirm the code on the cup, then overall liking,
each just-about-right attribute, the check-all-that-apply terms (one step for all of them), and
the optional comment; once every sample is done, the preference or the ranking. The next question
is always the first one without an answer, so stopping half-way and coming back (also after a
restart) continues exactly where the member was. The only thing not stored as an answer is the
code just confirmed (kept in the conversation), so a member who stops right after it is asked for
the code again.

A member who confirms a *different* code than planned (the helper served the cups in another
order) tastes that sample at this position: the answers record the position where each sample was
actually tasted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from localbot.tastings.model import Definition


class Sample(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def code(self) -> int: ...


class Stored(Protocol):
    @property
    def position(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Ask:
    #: ``code``, ``liking``, ``jar``, ``cata``, ``comment``, ``preference`` or ``rank``.
    kind: str
    #: The sample asked about (None for the final question).
    product_id: int | None = None
    #: Its place in the serving order, from 1 (0 for the final question).
    position: int = 0
    #: The attribute of a ``jar`` step.
    key: str | None = None

    @property
    def question(self) -> str:
        """The question key the answer is stored under (``cata`` stands for every ``cata.<id>``)."""
        return f"jar.{self.key}" if self.kind == "jar" else self.kind

    @property
    def token(self) -> str:
        """Short and unique within a questionnaire, for button payloads: ``2L``, ``2J1``, ``F``."""
        if self.kind in ("preference", "rank"):
            return "F"
        return f"{self.position}{self.kind[0].upper()}{self.key or ''}"


def sample_steps(definition: Definition) -> list[Ask]:
    steps = [Ask("liking")]
    steps += [Ask("jar", key=attribute.key) for attribute in definition.jar]
    if definition.cata:
        steps.append(Ask("cata"))
    if definition.comment:
        steps.append(Ask("comment"))
    return steps


def _answered(definition: Definition, step: Ask, product_id: int, answers: Mapping[tuple[int, str], Stored]) -> bool:
    if step.kind == "cata":
        return all((product_id, f"cata.{term.key}") in answers for term in definition.cata)
    return (product_id, step.question) in answers


def started(answers: Mapping[tuple[int, str], Stored]) -> dict[int, int]:
    """Samples with at least one answer, and the position each was tasted at."""
    found: dict[int, int] = {}
    for (product_id, question), answer in answers.items():
        if question in ("preference", "rank"):
            continue
        position = answer.position or 0
        found[product_id] = min(found.get(product_id, position), position)
    return found


def next_ask(
    definition: Definition, order: Sequence[Sample], answers: Mapping[tuple[int, str], Stored], current: int | None = None
) -> Ask | None:
    """The next question, or None when the questionnaire is complete. ``current`` is the sample
    whose code the member has just confirmed."""
    steps = sample_steps(definition)
    begun = started(answers)
    for product_id, position in sorted(begun.items(), key=lambda item: item[1]):
        for step in steps:
            if not _answered(definition, step, product_id, answers):
                return Ask(step.kind, product_id, position, step.key)
    if current is not None and current not in begun and any(p.id == current for p in order):
        first = steps[0]
        return Ask(first.kind, current, len(begun) + 1, first.key)
    remaining = [p for p in order if p.id not in begun]
    if remaining:
        return Ask("code", remaining[0].id, len(begun) + 1)
    final = definition.final_question()
    if final is not None and not any(question == final for _product, question in answers):
        return Ask(final)
    return None
