"""The validation-rule expression language: values, three-valued logic, errors, and safety."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from govshare_desktop.core.forms import expr
from govshare_desktop.core.forms.expr import (
    MAX_DEPTH,
    MAX_SOURCE_LENGTH,
    Expression,
    ExpressionError,
    parse,
)


def ev(source: str, **values: Any) -> Any:
    return parse(source).evaluate(values)


def error_of(source: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        parse(source)
    return info.value


# ------------------------------------------------------------------------------- arithmetic


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("2 * 3 + 4 * 5", 26),
        ("-2 * 3", -6),
        ("-(2 + 3)", -5),
        ("- -4", 4),
        ("+4", 4),
        ("8 / 2 / 2", 2),
        ("7 / 2", Decimal("3.5")),
        ("1 - -1", 2),
        ("123456789012345678901234567890 * 10", 1234567890123456789012345678900),
    ],
)
def test_arithmetic_and_precedence(source: str, expected: Any) -> None:
    assert ev(source) == expected


def test_integer_division_stays_int_and_inexact_division_is_decimal() -> None:
    assert type(ev("6 / 3")) is int
    assert ev("1 / 3") == Decimal(1) / Decimal(3)
    assert isinstance(ev("1 / 3"), Decimal)


def test_decimal_literals_are_exact() -> None:
    assert ev("0.1 + 0.2 == 0.3") is True
    assert ev("0.1 + 0.2") == Decimal("0.3")
    assert isinstance(ev("0.01"), Decimal)
    assert ev("abs(A - B) <= 0.01 * B", A=Decimal("100.50"), B=100) is True
    assert ev("abs(A - B) <= 0.01 * B", A=Decimal("101.01"), B=100) is False


def test_floats_from_data_become_decimals() -> None:
    assert ev("A + B == 0.3", A=0.1, B=0.2) is True
    assert ev("A", A=float("nan")) is None


def test_division_by_zero_is_unknown() -> None:
    assert ev("A / B", A=1, B=0) is None
    assert ev("1 / 0.0") is None
    assert ev("A / B <= 1", A=1, B=0) is None
    assert ev("B > 0 and A / B <= 1", A=5, B=0) is False
    assert ev("B > 0 and A / B <= 1", A=1, B=2) is True
    assert ev("B > 0 and A / B <= 1", A=3, B=2) is False


def test_missing_values_propagate_through_arithmetic() -> None:
    assert ev("A + 1") is None
    assert ev("-A") is None
    assert ev("A * B", A=2) is None


def test_numeric_text_takes_part_in_arithmetic() -> None:
    assert ev("A + 1", A="41") == 42
    assert ev("A * 2", A=" 1.5 ") == Decimal("3.0")


def test_arithmetic_on_non_numeric_text_is_an_error() -> None:
    with pytest.raises(ExpressionError, match="应为数值") as info:
        ev("A - 1", A="abc")
    assert info.value.position == 2


# ------------------------------------------------------------------------------ comparisons


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 < 2", True),
        ("2 < 2", False),
        ("2 <= 2", True),
        ("3 > 2", True),
        ("3 >= 4", False),
        ("2 == 2.0", True),
        ("2 != 2.00", False),
        ('"a" == "a"', True),
        ("'甲' != \"乙\"", True),
        ("1 + 1 == 2", True),
        ("0 <= 5 <= 10", True),
        ("0 <= 11 <= 10", False),
        ("true == true", True),
        ("true == 1", False),
        ('"2024-01-01" < "2024-02-01"', True),
    ],
)
def test_comparisons(source: str, expected: bool) -> None:
    assert ev(source) is expected


def test_comparison_with_unknown_is_unknown() -> None:
    assert ev("P_ENROLLED <= P_SHOULD_ENROLL", P_ENROLLED=3) is None
    assert ev("A == null") is None
    assert ev("A != 1") is None
    assert ev("P_ENROLLED <= P_SHOULD_ENROLL", P_ENROLLED=3, P_SHOULD_ENROLL=4) is True
    assert ev("P_ENROLLED <= P_SHOULD_ENROLL", P_ENROLLED=5, P_SHOULD_ENROLL=4) is False


def test_numbers_and_numeric_text_compare_as_numbers() -> None:
    assert ev("AGE >= 80", AGE="85") is True
    assert ev("A == 1", A="1") is True
    assert ev("A == 1", A="one") is False
    assert ev('A < "10"', A="9") is True  # both look like numbers
    assert ev('A == "1"', A="01") is False  # two texts compare exactly (codes)


def test_dates_from_data_compare_as_iso_text() -> None:
    assert ev('BIRTH < "2000-01-01"', BIRTH=dt.date(1990, 5, 1)) is True


def test_ordering_text_against_number_is_an_error() -> None:
    with pytest.raises(ExpressionError, match="应为数值"):
        ev("A < 3", A="abc")
    with pytest.raises(ExpressionError, match="无法比较"):
        ev("A < B", A=True, B=False)


# ---------------------------------------------------------------------------------- logic


T, F, U = True, False, None


@pytest.mark.parametrize(
    ("a", "b", "and_", "or_"),
    [
        (T, T, T, T),
        (T, F, F, T),
        (F, T, F, T),
        (F, F, F, F),
        (T, U, U, T),
        (U, T, U, T),
        (F, U, F, U),
        (U, F, F, U),
        (U, U, U, U),
    ],
)
def test_three_valued_logic(a: Any, b: Any, and_: Any, or_: Any) -> None:
    assert ev("A and B", A=a, B=b) is and_
    assert ev("A or B", A=a, B=b) is or_


def test_not() -> None:
    assert ev("not A", A=True) is False
    assert ev("not A", A=False) is True
    assert ev("not A") is None
    assert ev("not not A", A=True) is True
    assert ev("not 1 == 2") is True  # not binds looser than comparisons


def test_precedence_of_and_over_or() -> None:
    assert ev("true or false and false") is True
    assert ev("(true or false) and false") is False


def test_rules_from_templates() -> None:
    rule = "V_80PLUS >= 0 and V_80PLUS <= V_60PLUS"
    assert ev(rule, V_80PLUS=3, V_60PLUS=10) is True
    assert ev(rule, V_80PLUS=-1, V_60PLUS=10) is False
    assert ev(rule, V_80PLUS=30, V_60PLUS=10) is False
    assert ev(rule, V_80PLUS=3) is None  # unknown: not violated
    assert ev(rule, V_80PLUS=-1) is False  # already false, whatever V_60PLUS is

    rule = 'AGE >= 80 or STATUS != "死亡注销"'
    assert ev(rule, AGE=85, STATUS="死亡注销") is True
    assert ev(rule, AGE=60, STATUS="死亡注销") is False
    assert ev(rule, AGE=60, STATUS="正常") is True
    assert ev(rule, STATUS="正常") is True
    assert ev(rule, STATUS="死亡注销") is None


def test_logic_on_a_number_is_an_error() -> None:
    with pytest.raises(ExpressionError, match="应为条件") as info:
        ev("A and B", A=1, B=True)
    assert info.value.position == 0


def test_keywords_are_case_insensitive() -> None:
    assert ev("TRUE AND NOT False") is True
    assert ev("A IN (1, 2)", A=2) is True
    assert ev("NULL") is None


# ------------------------------------------------------------------------------------- in


def test_in_and_not_in() -> None:
    assert ev('X in ("01", "02")', X="01") is True
    assert ev('X in ("01", "02")', X="03") is False
    assert ev('X not in ("01", "02")', X="03") is True
    assert ev('X not in ("01", "02")', X="02") is False
    assert ev('X in ("01", "02")') is None
    assert ev('X in ("01")', X="01") is True  # one item
    assert ev("X in (1, 2 + 1)", X=3) is True
    assert ev("X in (A, 2)", X=1) is None  # could be A
    assert ev("X in (A, 1)", X=1) is True
    assert ev("not X in (1, 2)", X=3) is True


def test_in_needs_a_parenthesised_non_empty_list() -> None:
    assert "in" in str(error_of('X in "01"'))
    assert "空" in str(error_of("X in ()"))


# ------------------------------------------------------------------------------- functions


def test_sum() -> None:
    assert ev("sum(A, B) == TOTAL", A=1, B=2, TOTAL=3) is True
    assert ev("sum(A, B)", A=1) == 1  # unknown items are skipped
    assert ev("sum(A, B)") is None  # all unknown
    assert ev('sum(1.5, 2, "3")') == Decimal("6.5")
    assert ev("SUM(1, 2)") == 3


def test_min_and_max() -> None:
    assert ev("min(3, 1, 2)") == 1
    assert ev("max(3, 1, 2)") == 3
    assert ev("min(A, 5)") == 5
    assert ev("max(A, B)") is None
    assert ev("max(1, 2.5)") == Decimal("2.5")


def test_abs() -> None:
    assert ev("abs(-3)") == 3
    assert ev("abs(2 - 2.5)") == Decimal("0.5")
    assert ev("abs(A)") is None


def test_round_is_half_up() -> None:
    assert ev("round(2.345, 2)") == Decimal("2.35")
    assert ev("round(2.5)") == 3
    assert ev("round(-2.5)") == -3
    assert ev("round(7)") == 7
    assert ev("round(1250, -2)") == 1300
    assert ev("round(-1249, -2)") == -1200
    assert ev("round(A, 2)") is None
    assert ev("round(1.005, 2) == 1.01") is True
    with pytest.raises(ExpressionError, match="小数位数"):
        ev("round(1, 0.5)")


def test_len() -> None:
    assert ev("len(NAME) <= 20", NAME="张三") is True
    assert ev("len(NAME)", NAME="张三") == 2
    assert ev("len(NAME)") is None
    with pytest.raises(ExpressionError, match="len"):
        ev("len(5)")


def test_empty() -> None:
    assert ev("empty(CONTACT)") is True
    assert ev("empty(CONTACT)", CONTACT="  ") is True
    assert ev("not empty(CONTACT)", CONTACT="13800000000") is True
    assert ev("empty(A)", A=0) is False


def test_coalesce() -> None:
    assert ev("coalesce(A, B, 0)", B=5) == 5
    assert ev("coalesce(A, B, 0)") == 0
    assert ev("coalesce(A, B)") is None
    assert ev("coalesce(A, 1) + 1", A=0) == 1


def test_function_arity_is_checked_when_parsing() -> None:
    assert "abs" in str(error_of("abs(1, 2)"))
    assert "round" in str(error_of("round()"))
    assert "sum" in str(error_of("sum()"))


# ----------------------------------------------------------------------------------- names


def test_names_are_collected() -> None:
    expression = parse('sum(A, B) == TOTAL and not empty(CONTACT) and X in ("01", Y)')
    assert expression.names == frozenset({"A", "B", "TOTAL", "CONTACT", "X", "Y"})
    assert parse("1 + 2").names == frozenset()
    assert parse("P_60PLUS + V01 + _x").names == {"P_60PLUS", "V01", "_x"}


def test_parse_returns_a_frozen_expression_and_is_cached() -> None:
    expression = parse("A + 1")
    assert isinstance(expression, Expression)
    assert expression.source == "A + 1"
    assert parse("A + 1") is expression
    with pytest.raises(AttributeError):
        expression.source = "B"  # type: ignore[misc]


def test_evaluate_accepts_any_mapping_and_ignores_extra_values() -> None:
    assert parse("A + 1").evaluate({"A": 1, "Z": "unused"}) == 2


def test_strings_with_escapes_and_chinese() -> None:
    assert ev(r'"他说\"好\"" == A', A='他说"好"') is True
    assert "多余" in str(error_of("'it''s'"))  # adjacent texts are not joined
    assert ev(r"'a\\b'") == "a\\b"


# ------------------------------------------------------------------------------ parse errors


def test_error_message_names_rule_and_position() -> None:
    error = error_of("A <= ")
    assert str(error) == "规则“A <= ”第 6 个字符处缺少数值"
    assert error.position == 5
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("source", "position", "words"),
    [
        ("A +", 3, "缺少数值"),  # trailing operator
        ("A + * B", 4, "缺少数值"),
        ("(A + B", 6, "右括号"),  # unbalanced parentheses
        ("A + B)", 5, "多余的右括号"),
        ("sum((A, B)", 6, "多余的“,”"),
        ("foo(A)", 0, "未知函数“foo”"),  # unknown function
        ("A.b", 1, "属性"),  # attribute access
        ("A $ B", 2, "无法识别的字符“$”"),  # unknown character
        ("A ＋ B", 2, "全角"),
        ("年龄 > 3", 0, "引号"),
        ("A = 1", 2, "=="),
        ("A B", 2, "多余的“B”"),
        ('"abc', 0, "引号"),
        ("1.2.3", 0, "数字"),
        ("12abc", 0, "数字"),
        ("1" * 31, 0, "数字太长"),
        ("", 0, "缺少数值"),
        ("None", 0, "null"),
    ],
)
def test_parse_errors_have_positions(source: str, position: int, words: str) -> None:
    error = error_of(source)
    assert error.position == position
    assert words in str(error)
    assert f"第 {position + 1} 个字符处" in str(error)


def test_thirty_digit_numbers_are_fine() -> None:
    assert ev("1" * 30) == int("1" * 30)
    assert ev("1" * 15 + "." + "1" * 15) == Decimal("1" * 15 + "." + "1" * 15)


def test_too_long() -> None:
    source = " + ".join(["A"] * 400)
    assert len(source) > MAX_SOURCE_LENGTH
    error = error_of(source)
    assert error.position == MAX_SOURCE_LENGTH
    assert "最多 1000" in str(error)
    parse(("A + " * 250)[: MAX_SOURCE_LENGTH - 1] + "A")  # at the limit: fine


def test_too_deep() -> None:
    ok = "(" * MAX_DEPTH + "1" + ")" * MAX_DEPTH
    assert parse(ok).evaluate({}) == 1
    deep = "(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1)
    error = error_of(deep)
    assert "嵌套" in str(error)
    assert error.position == MAX_DEPTH
    assert "嵌套" in str(error_of("-" * (MAX_DEPTH + 1) + "1"))
    assert "嵌套" in str(error_of("not " * (MAX_DEPTH + 1) + "A"))
    assert "嵌套" in str(error_of("abs(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1)))


def test_long_flat_chains_do_not_recurse() -> None:
    source = "+".join(["1"] * 500)
    assert ev(source) == 500
    assert ev(" and ".join(["true"] * 100)) is True


# ------------------------------------------------------------------------------- injection


@pytest.mark.parametrize(
    "source",
    [
        '__import__("os").system("echo hi")',
        "().__class__.__bases__",
        'open("x")',
        "lambda: 1",
        "A if B else C",
        "[1,2]",
        "A**B",
        'eval("1")',
        'exec("1")',
        "x; y",
        "A.__class__",
        'getattr(A, "x")',
        "A[0]",
        "{1: 2}",
        "import os",
        "A := 1",
        "A @ B",
        "`ls`",
        'f"{A}"',
        "A and\x00B",
    ],
)
def test_injection_attempts_are_refused(source: str, capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ExpressionError):
        parse(source).evaluate({"A": 1, "B": 2, "C": 3, "x": 1, "y": 2})
    assert "hi" not in capfd.readouterr().out


def test_non_string_rule_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse(42)  # type: ignore[arg-type]


def test_module_never_uses_python_eval_exec_or_ast() -> None:
    here = Path(expr.__file__).parent
    text = "\n".join(
        (here / f"{name}.py").read_text(encoding="utf-8")
        for name in ("expr", "expr_syntax", "expr_eval")
    )
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    for forbidden in ("eval(", "exec(", "import ast"):
        assert forbidden not in code
    assert not re.search(r"(?<![.\w])compile\(", code)  # re.compile is fine
    assert not re.search(r"^\s*from\s+ast\b", code, re.MULTILINE)
    assert "__import__" not in code
