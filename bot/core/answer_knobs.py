"""The knobs of the single-fact answer: when it is sure, when it is refused, what it quotes beside the lead.

Built from `Settings` (`SPACEBOT_SURE_LEVEL`, `SPACEBOT_ANSWER_FLOOR`, `SPACEBOT_SUPPORT_MARGIN`,
`SPACEBOT_CLOSEST_MIN`, `SPACEBOT_FIGURE_RULE`,
`SPACEBOT_READER`); where each default came from is a row of the
tuning table in docs/BENCHMARKS.md.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AnswerKnobs:
    """`sure`: confidence at or above which the answer is given as sure; `floor`: below it the question is
    refused (between the two: "unsure", quoted with a caveat); `margin`: a 2nd or 3rd sentence is quoted
    when its reader logit is within this of the lead's and it comes from another article; `closest_min`:
    a refusal lists only articles whose best passage's cross-encoder logit reaches this (and a question
    none reaches is off-topic: refused whatever the reader says); `figure_rule`: also refuse a question
    asking for a figure that no sentence states about it (`bot.core.gate.figure_refusal`); `reader`:
    "cross-encoder" or "trained" (bot/models/reader.onnx when present; `bot.core.reading`)."""

    sure: float = 0.5
    floor: float = 0.1
    margin: float = 2.0
    closest_min: float = -8.0
    figure_rule: bool = True
    reader: str = "cross-encoder"
    max_sentences: int = 3

    @classmethod
    def from_settings(cls, settings) -> AnswerKnobs:
        """The knobs `settings` sets (defaults where it has no such field)."""
        return cls(
            sure=getattr(settings, "sure_level", cls.sure),
            floor=getattr(settings, "answer_floor", cls.floor),
            margin=getattr(settings, "support_margin", cls.margin),
            closest_min=getattr(settings, "closest_min", cls.closest_min),
            figure_rule=getattr(settings, "figure_rule", cls.figure_rule),
            reader=getattr(settings, "reader", cls.reader),
        )
