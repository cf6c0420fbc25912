"""Strict checks of New Quizzes payloads, as the documentation shapes them.

https://developerdocs.instructure.com/services/canvas/resources/new_quizzes (quiz[...] fields)
https://developerdocs.instructure.com/services/canvas/resources/new_quiz_items (item[...] fields,
"Appendix: Question Types": interaction_data / scoring_data / scoring_algorithm per type)

The five types quizgen exports are checked field by field against the appendix's examples:
choice, true-false, matching, categorization, rich-fill-blank. The other documented slugs
are accepted with their general shape only (objects for interaction_data and scoring_data, a
string scoring_algorithm). Each failure names the field, e.g.
"item[entry][scoring_data][value]".
"""

from __future__ import annotations

from typing import Any

DOCUMENTED_SLUGS = frozenset(
    {
        "multi-answer",
        "matching",
        "categorization",
        "file-upload",
        "formula",
        "ordering",
        "rich-fill-blank",
        "hot-spot",
        "choice",
        "numeric",
        "true-false",
        "essay",
    }
)
# The per-blank scoring algorithms of rich-fill-blank in the appendix.
BLANK_ALGORITHMS = frozenset(
    {"TextContainsAnswer", "TextCloseEnough", "TextEquivalence", "TextInChoices", "TextRegex"}
)
BLANK_ANSWER_TYPES = frozenset({"openEntry", "dropdown", "wordbank"})


class PayloadError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _obj(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(field, "must be an object")
    return value


def _list(value: Any, field: str, *, min_len: int = 0) -> list[Any]:
    if not isinstance(value, list):
        raise PayloadError(field, "must be an array")
    if len(value) < min_len:
        raise PayloadError(field, f"must have at least {min_len} entries")
    return value


def _str(value: Any, field: str, *, blank_ok: bool = False) -> str:
    if not isinstance(value, str):
        raise PayloadError(field, "must be a string")
    if not blank_ok and not value.strip():
        raise PayloadError(field, "must not be blank")
    return value


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(field, "must be a number")
    return float(value)


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(field, "must be an integer")
    return value


def _algorithm(entry: dict[str, Any], field: str, allowed: set[str]) -> None:
    value = _str(entry.get("scoring_algorithm"), f"{field}[scoring_algorithm]")
    if value not in allowed:
        raise PayloadError(f"{field}[scoring_algorithm]", f"must be one of {sorted(allowed)}")


# --- quizzes --------------------------------------------------------------------------------


def quiz_fields(body: Any, *, creating: bool) -> dict[str, Any]:
    quiz = _obj(_obj(body, "body").get("quiz"), "quiz")
    fields: dict[str, Any] = {}
    if "title" in quiz or creating:
        fields["title"] = _str(quiz.get("title"), "quiz[title]")
    for name in ("instructions", "due_at", "lock_at", "unlock_at", "grading_type"):
        if quiz.get(name) is not None:
            fields[name] = _str(quiz[name], f"quiz[{name}]", blank_ok=True)
    if quiz.get("assignment_group_id") is not None:
        fields["assignment_group_id"] = str(quiz["assignment_group_id"])
    if quiz.get("points_possible") is not None:
        points = _number(quiz["points_possible"], "quiz[points_possible]")
        if points < 0:
            raise PayloadError("quiz[points_possible]", "must not be negative")
        fields["points_possible"] = points
    if "published" in quiz:
        if not isinstance(quiz["published"], bool):
            raise PayloadError("quiz[published]", "must be a boolean")
        fields["published"] = quiz["published"]
    if quiz.get("quiz_settings") is not None:
        fields["quiz_settings"] = _obj(quiz["quiz_settings"], "quiz[quiz_settings]")
    return fields


# --- items ----------------------------------------------------------------------------------


def item_fields(body: Any, *, creating: bool) -> dict[str, Any]:
    """The item[...] fields given (validated where they stand alone)."""
    item = _obj(_obj(body, "body").get("item"), "item")
    fields: dict[str, Any] = {}
    if "position" in item:
        position = _int(item["position"], "item[position]")
        if position < 1:
            raise PayloadError("item[position]", "must be 1 or more")
        fields["position"] = position
    if "points_possible" in item or creating:
        points = _number(item.get("points_possible"), "item[points_possible]")
        if points <= 0:  # "Must be positive."
            raise PayloadError("item[points_possible]", "must be positive")
        fields["points_possible"] = points
    if "entry_type" in item or creating:
        if item.get("entry_type") != "Item":
            raise PayloadError("item[entry_type]", 'must be "Item"')
        fields["entry_type"] = "Item"
    if "entry" in item or creating:
        fields["entry"] = _obj(item.get("entry"), "item[entry]")
    return fields


def check_entry(entry: dict[str, Any]) -> None:
    """A whole entry (after a PATCH's fields are merged in)."""
    f = "item[entry]"
    _str(entry.get("item_body"), f"{f}[item_body]")
    if entry.get("title") is not None:
        _str(entry["title"], f"{f}[title]", blank_ok=True)
    if entry.get("calculator_type") not in (None, "none", "basic", "scientific"):
        raise PayloadError(f"{f}[calculator_type]", "must be none, basic or scientific")
    slug = _str(entry.get("interaction_type_slug"), f"{f}[interaction_type_slug]")
    if slug not in DOCUMENTED_SLUGS:
        raise PayloadError(f"{f}[interaction_type_slug]", f"unknown question type {slug!r}")
    if "interaction_data" not in entry:
        raise PayloadError(f"{f}[interaction_data]", "is required")
    if "scoring_data" not in entry:
        raise PayloadError(f"{f}[scoring_data]", "is required")
    data = _obj(entry["interaction_data"], f"{f}[interaction_data]")
    scoring = _obj(entry["scoring_data"], f"{f}[scoring_data]")
    _str(entry.get("scoring_algorithm"), f"{f}[scoring_algorithm]")
    if entry.get("feedback") is not None:
        feedback = _obj(entry["feedback"], f"{f}[feedback]")
        for key, value in feedback.items():
            if key not in ("neutral", "correct", "incorrect"):
                raise PayloadError(f"{f}[feedback][{key}]", "is not a feedback field")
            _str(value, f"{f}[feedback][{key}]", blank_ok=True)
    if entry.get("answer_feedback") is not None:
        for key, value in _obj(entry["answer_feedback"], f"{f}[answer_feedback]").items():
            _str(value, f"{f}[answer_feedback][{key}]", blank_ok=True)
    if entry.get("properties") is not None:
        _obj(entry["properties"], f"{f}[properties]")
    check = _TYPE_CHECKS.get(slug)
    if check is not None:
        check(entry, data, scoring)


def _choice(entry: dict[str, Any], data: dict[str, Any], scoring: dict[str, Any]) -> None:
    f = "item[entry][interaction_data][choices]"
    ids = set()
    for i, choice in enumerate(_list(data.get("choices"), f, min_len=2)):
        choice = _obj(choice, f"{f}[{i}]")
        ids.add(_str(choice.get("id"), f"{f}[{i}][id]"))
        _int(choice.get("position"), f"{f}[{i}][position]")
        _str(choice.get("item_body"), f"{f}[{i}][item_body]")
    if len(ids) != len(data["choices"]):
        raise PayloadError(f, "choice ids must be unique")
    value = _str(scoring.get("value"), "item[entry][scoring_data][value]")
    if value not in ids:
        raise PayloadError("item[entry][scoring_data][value]", "must be the id of a choice")
    _algorithm(entry, "item[entry]", {"Equivalence"})


def _true_false(entry: dict[str, Any], data: dict[str, Any], scoring: dict[str, Any]) -> None:
    f = "item[entry][interaction_data]"
    _str(data.get("true_choice"), f"{f}[true_choice]")
    _str(data.get("false_choice"), f"{f}[false_choice]")
    if not isinstance(scoring.get("value"), bool):
        raise PayloadError("item[entry][scoring_data][value]", "must be true or false")
    _algorithm(entry, "item[entry]", {"Equivalence"})


def _matching(entry: dict[str, Any], data: dict[str, Any], scoring: dict[str, Any]) -> None:
    f = "item[entry][interaction_data]"
    answers = [
        _str(a, f"{f}[answers][{i}]")
        for i, a in enumerate(_list(data.get("answers"), f"{f}[answers]", min_len=1))
    ]
    ids = []
    for i, question in enumerate(_list(data.get("questions"), f"{f}[questions]", min_len=1)):
        question = _obj(question, f"{f}[questions][{i}]")
        ids.append(_str(question.get("id"), f"{f}[questions][{i}][id]"))
        _str(question.get("item_body"), f"{f}[questions][{i}][item_body]")
    value = _obj(scoring.get("value"), "item[entry][scoring_data][value]")
    if set(value) != set(ids):
        raise PayloadError("item[entry][scoring_data][value]", "must map every question id")
    for qid, answer in value.items():
        if _str(answer, f"item[entry][scoring_data][value][{qid}]") not in answers:
            raise PayloadError(f"item[entry][scoring_data][value][{qid}]", "must be an answer")
    if scoring.get("edit_data") is not None:
        _obj(scoring["edit_data"], "item[entry][scoring_data][edit_data]")
    _algorithm(entry, "item[entry]", {"DeepEquals", "PartialDeep"})


def _categorization(entry: dict[str, Any], data: dict[str, Any], scoring: dict[str, Any]) -> None:
    f = "item[entry][interaction_data]"
    groups = {}
    for name in ("categories", "distractors"):
        group = _obj(data.get(name), f"{f}[{name}]")
        for key, member in group.items():
            member = _obj(member, f"{f}[{name}][{key}]")
            if _str(member.get("id"), f"{f}[{name}][{key}][id]") != key:
                raise PayloadError(f"{f}[{name}][{key}][id]", "must equal its key")
            _str(member.get("item_body"), f"{f}[{name}][{key}][item_body]")
        groups[name] = set(group)
    if not groups["categories"]:
        raise PayloadError(f"{f}[categories]", "must have at least 1 entries")
    order = _list(data.get("category_order"), f"{f}[category_order]")
    if sorted(map(str, order)) != sorted(groups["categories"]):
        raise PayloadError(f"{f}[category_order]", "must list every category once")
    s = "item[entry][scoring_data][value]"
    seen = set()
    for i, rule in enumerate(_list(scoring.get("value"), s, min_len=1)):
        rule = _obj(rule, f"{s}[{i}]")
        cid = _str(rule.get("id"), f"{s}[{i}][id]")
        if cid not in groups["categories"]:
            raise PayloadError(f"{s}[{i}][id]", "must be a category id")
        seen.add(cid)
        _algorithm(rule, f"{s}[{i}]", {"AllOrNothing"})
        members = _list(
            _obj(rule.get("scoring_data"), f"{s}[{i}][scoring_data]").get("value"),
            f"{s}[{i}][scoring_data][value]",
        )
        for j, member in enumerate(members):
            if _str(member, f"{s}[{i}][scoring_data][value][{j}]") not in groups["distractors"]:
                raise PayloadError(f"{s}[{i}][scoring_data][value][{j}]", "must be a distractor id")
    if seen != groups["categories"]:
        raise PayloadError(s, "must score every category")
    if scoring.get("score_method") is not None:
        _str(scoring["score_method"], "item[entry][scoring_data][score_method]")
    _algorithm(entry, "item[entry]", {"Categorization"})


def _fill_blank(entry: dict[str, Any], data: dict[str, Any], scoring: dict[str, Any]) -> None:
    """Blanks of answer_type openEntry, dropdown (its own choices, scored by Equivalence with
    the right choice's id) or wordbank; one scoring rule per blank, with the blank's text."""
    f = "item[entry][interaction_data][blanks]"
    blanks: dict[str, tuple[str, set[str]]] = {}
    for i, blank in enumerate(_list(data.get("blanks"), f, min_len=1)):
        blank = _obj(blank, f"{f}[{i}]")
        bid = _str(blank.get("id"), f"{f}[{i}][id]")
        answer_type = blank.get("answer_type")
        if not isinstance(answer_type, str) or answer_type not in BLANK_ANSWER_TYPES:
            kinds = sorted(BLANK_ANSWER_TYPES)
            raise PayloadError(f"{f}[{i}][answer_type]", f"must be one of {kinds}")
        choice_ids = set()
        if answer_type == "dropdown":
            choices = _list(blank.get("choices"), f"{f}[{i}][choices]", min_len=2)
            for j, choice in enumerate(choices):
                choice = _obj(choice, f"{f}[{i}][choices][{j}]")
                choice_ids.add(_str(choice.get("id"), f"{f}[{i}][choices][{j}][id]"))
                _str(choice.get("item_body"), f"{f}[{i}][choices][{j}][item_body]")
        blanks[bid] = (answer_type, choice_ids)
    s = "item[entry][scoring_data]"
    _str(scoring.get("working_item_body"), f"{s}[working_item_body]")
    seen = set()
    for i, rule in enumerate(_list(scoring.get("value"), f"{s}[value]", min_len=1)):
        r = f"{s}[value][{i}]"
        rule = _obj(rule, r)
        bid = _str(rule.get("id"), f"{r}[id]")
        if bid not in blanks:
            raise PayloadError(f"{r}[id]", "must be a blank id")
        seen.add(bid)
        answer_type, choice_ids = blanks[bid]
        allowed = {
            "dropdown": {"Equivalence"},
            "openEntry": set(BLANK_ALGORITHMS),
            "wordbank": {*BLANK_ALGORITHMS, "Equivalence"},
        }[answer_type]
        _algorithm(rule, r, allowed)
        algorithm = rule["scoring_algorithm"]
        rule_data = _obj(rule.get("scoring_data"), f"{r}[scoring_data]")
        if algorithm == "TextInChoices":
            values = _list(rule_data.get("value"), f"{r}[scoring_data][value]", min_len=1)
            for j, v in enumerate(values):
                _str(v, f"{r}[scoring_data][value][{j}]")
        else:
            value = _str(rule_data.get("value"), f"{r}[scoring_data][value]")
            if answer_type == "dropdown" and value not in choice_ids:
                raise PayloadError(f"{r}[scoring_data][value]", "must be a choice id")
        if algorithm == "TextCloseEnough":
            # A Levenshtein distance above 0 (Canvas refuses 0; the editor says so too).
            distance = rule_data.get("edit_distance")
            if isinstance(distance, str) and distance.isdigit():
                distance = int(distance)
            if _int(distance, f"{r}[scoring_data][edit_distance]") < 1:
                raise PayloadError(f"{r}[scoring_data][edit_distance]", "must be 1 or more")
        if "ignore_case" in rule_data and not isinstance(rule_data["ignore_case"], bool):
            raise PayloadError(f"{r}[scoring_data][ignore_case]", "must be a boolean")
        _str(rule_data.get("blank_text"), f"{r}[scoring_data][blank_text]")
    if seen != set(blanks):
        raise PayloadError(f"{s}[value]", "must score every blank")
    _algorithm(entry, "item[entry]", {"MultipleMethods"})


_TYPE_CHECKS = {
    "choice": _choice,
    "true-false": _true_false,
    "matching": _matching,
    "categorization": _categorization,
    "rich-fill-blank": _fill_blank,
}
