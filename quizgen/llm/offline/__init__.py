"""The embedded question generator: real questions from the module text, offline.

No network, no key, no model: `OfflineProvider` reads the module's course text
and turns its sentences into questions of all five types.

Approach:

1. The text is split into sentences and Unicode-aware word tokens; stopwords
   (English + Norwegian) are dropped, and the remaining words (and word pairs
   that recur, like "carbon dioxide") are the module's *terms*. A term found in
   many sentences is central; one found once is rare.
2. A *fact* is a term inside a sentence. Blanking it gives a cloze statement
   whose answer is the term. Every question is built from facts:

   - multiple_choice: "Which term best completes the statement?" + the cloze;
     the options are the term and three other terms of the module.
   - true_false: the sentence as written (true), or with its term swapped for
     another term of the module (false).
   - fill_in_blank: the sentence with `[blank_1]` (and, when hard, `[blank_2]`).
   - matching: 3-5 cloze statements paired with their missing terms.
   - categorization: cloze statements sorted under the term that completes
     them, alternating with groups of statements sorted into true and false.

3. Difficulty picks the facts: easy prefers central terms in short sentences,
   hard prefers rare terms in long sentences (and uses more blanks, pairs,
   categories and look-alike distractors), so batches of one type at different
   difficulties ask different things.

Every candidate is checked against the question schema and against the
request's `avoid_texts` before it is kept, so the answer is always valid JSON
of valid, distinct questions; when the text cannot give `count` of them, fewer
are returned. Output is a pure function of the request: the only "randomness"
(option order, true/false mix) comes from a `random.Random` seeded with a
SHA-256 of the batch key, type, difficulty and call index.

Modules (text analysis first, then question building, then the provider):

- `lexicon`: words, stopwords, the stemmer, term tests, slot cues.
- `sentences`: course text to sentences (paragraphs, headings, bullets).
- `document`: the records analysis yields (`Token`, `Sentence`, `Term`, `Fact`,
  `Document`).
- `analysis`: `analyse(content)` -> `Document` (terms, phrases, facts, rarity).
- `wording`: the English and Norwegian phrasing of every question.
- `context`: `Context`, what all builders share (clozes, answers, wrong
  options, false statements), fact ordering by difficulty, fact groups.
- `multiple_choice`, `true_false`, `fill_in_blank`, `matching`,
  `categorization`: one builder per question type.
- `provider`: `build_questions` (builder dispatch, schema and avoid-texts
  checks) and `OfflineProvider` (JSON answer, token usage, latency).

Only the names below are the package's public surface.
"""

from __future__ import annotations

from quizgen.llm.offline.provider import OfflineProvider, build_questions
from quizgen.llm.offline.sentences import split_sentences

__all__ = ["OfflineProvider", "build_questions", "split_sentences"]
