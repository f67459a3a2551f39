"""Outcome rates of the AAPOR *Standard Definitions* (10th edition, 2023): pure counts in, rates
out, no database.

The final outcome of every case falls in one class:

    I   complete interview            P   partial interview
    R   refusal and break-off         NC  non-contact           O   other (eligible, not R/NC)
    UH  unknown whether eligible, nobody reached (incl. never attempted)
    UO  unknown eligibility, other
    NE  not eligible (wrong number, not the person, …)

and `e` is the estimated share of the cases of unknown eligibility (UH + UO) that are eligible.

The formulas, written with E = (I+P) + (R+NC+O) (the known-eligible cases) and U = UH+UO:

    RR1  = I / (E + U)                RR2  = (I+P) / (E + U)
    RR3  = I / (E + e·U)              RR4  = (I+P) / (E + e·U)
    RR5  = I / E                      RR6  = (I+P) / E
    COOP1 = I / ((I+P) + R + O)       COOP2 = (I+P) / ((I+P) + R + O)
    COOP3 = I / ((I+P) + R)           COOP4 = (I+P) / ((I+P) + R)
    REF1 = R / (E + U)                REF2 = R / (E + e·U)            REF3 = R / E
    CON1 = ((I+P)+R+O) / (E + U)      CON2 = ((I+P)+R+O) / (E + e·U)  CON3 = ((I+P)+R+O) / E

(CON's denominators are the same as RR's: (I+P)+R+O+NC is E.) RR5/RR6 and REF3/CON3 take e as 0,
RR1/RR2, REF1 and CON1 take it as 1.

The default e is AAPOR's *proportional allocation* (the "CASRO" method): the share of eligible
cases among those whose eligibility is known, e = E / (E + NE). Nothing known (E + NE = 0)
leaves e undefined, and the rates that need it are None.

Rates are computed exactly with fractions and returned as the float nearest to the exact value,
so a test may compare with `==` against the same fraction written by hand. A rate whose
denominator is zero is None (nothing to divide by), never an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from fractions import Fraction
from numbers import Rational

CLASSES = ("I", "P", "R", "NC", "O", "UH", "UO", "NE")
CLASS_LABELS = {
    "I": "完成访问", "P": "部分完成", "R": "拒访或中断", "NC": "未接触到", "O": "其他（合格）",
    "UH": "资格不明（未接触）", "UO": "资格不明（其他）", "NE": "不合格",
}
E_METHOD = "proportional allocation (CASRO)"
E_METHOD_LABEL = "按比例分配法（CASRO 法）：资格已知的个案中合格者所占比例，e = E/(E+NE)"
EDITION = "AAPOR Standard Definitions, 10th edition (2023)"

Number = int | float | Fraction


@dataclass(frozen=True)
class Outcomes:
    """Counts of final outcomes by AAPOR class."""

    I: int = 0  # noqa: E741 - AAPOR's own name for completes
    P: int = 0
    R: int = 0
    NC: int = 0
    O: int = 0  # noqa: E741 - AAPOR's own name for "other"
    UH: int = 0
    UO: int = 0
    NE: int = 0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a count (a non-negative integer), not {value!r}")

    @property
    def interviews(self) -> int:
        return self.I + self.P

    @property
    def eligible(self) -> int:
        """E: the cases known to be eligible."""
        return self.I + self.P + self.R + self.NC + self.O

    @property
    def unknown(self) -> int:
        """U: the cases of unknown eligibility."""
        return self.UH + self.UO

    @property
    def contacted(self) -> int:
        return self.I + self.P + self.R + self.O

    @property
    def total(self) -> int:
        return self.eligible + self.unknown + self.NE

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def estimate_e(o: Outcomes) -> Fraction | None:
    """Proportional allocation: E / (E + NE); None when no case's eligibility is known."""
    known = o.eligible + o.NE
    return Fraction(o.eligible, known) if known else None


def _as_fraction(e: Number) -> Fraction:
    if isinstance(e, bool):
        raise ValueError("e must be a number between 0 and 1")
    # 0.8 typed by a person means 4/5, not the binary float nearest to it.
    value = Fraction(str(e)) if isinstance(e, float) else Fraction(e)
    if not 0 <= value <= 1:
        raise ValueError(f"e must lie between 0 and 1, not {e!r}")
    return value


def resolve_e(o: Outcomes, e: Number | None = None) -> Fraction | None:
    """The e to use: the one given, or the proportional-allocation estimate."""
    return estimate_e(o) if e is None else _as_fraction(e)


# Each rate as (numerator, denominator) of counts and e: the pages show these as the rate's
# working, so a reader can check any figure by hand.
Parts = tuple[Fraction, Fraction]


def _den(o: Outcomes, weight: Fraction) -> Fraction:
    return o.eligible + weight * o.unknown


def _with_e(o: Outcomes, e: Number | None,
            make: Callable[[Fraction], Parts]) -> Parts | None:
    value = resolve_e(o, e)
    return None if value is None else make(value)


PART_FUNCTIONS: dict[str, Callable[[Outcomes, Number | None], Parts | None]] = {
    "RR1": lambda o, e: (Fraction(o.I), _den(o, Fraction(1))),
    "RR2": lambda o, e: (Fraction(o.interviews), _den(o, Fraction(1))),
    "RR3": lambda o, e: _with_e(o, e, lambda v: (Fraction(o.I), _den(o, v))),
    "RR4": lambda o, e: _with_e(o, e, lambda v: (Fraction(o.interviews), _den(o, v))),
    "RR5": lambda o, e: (Fraction(o.I), _den(o, Fraction(0))),
    "RR6": lambda o, e: (Fraction(o.interviews), _den(o, Fraction(0))),
    "COOP1": lambda o, e: (Fraction(o.I), Fraction(o.interviews + o.R + o.O)),
    "COOP2": lambda o, e: (Fraction(o.interviews), Fraction(o.interviews + o.R + o.O)),
    "COOP3": lambda o, e: (Fraction(o.I), Fraction(o.interviews + o.R)),
    "COOP4": lambda o, e: (Fraction(o.interviews), Fraction(o.interviews + o.R)),
    "REF1": lambda o, e: (Fraction(o.R), _den(o, Fraction(1))),
    "REF2": lambda o, e: _with_e(o, e, lambda v: (Fraction(o.R), _den(o, v))),
    "REF3": lambda o, e: (Fraction(o.R), _den(o, Fraction(0))),
    "CON1": lambda o, e: (Fraction(o.contacted), _den(o, Fraction(1))),
    "CON2": lambda o, e: _with_e(o, e, lambda v: (Fraction(o.contacted), _den(o, v))),
    "CON3": lambda o, e: (Fraction(o.contacted), _den(o, Fraction(0))),
}
RATES = tuple(PART_FUNCTIONS)
NEEDS_E = frozenset({"RR3", "RR4", "REF2", "CON2"})

# The formulas as the pages state them (AAPOR's class names; E = I+P+R+NC+O is not used here,
# so that each reads on its own).
FORMULAS = {
    "RR1": "I/((I+P)+(R+NC+O)+(UH+UO))",
    "RR2": "(I+P)/((I+P)+(R+NC+O)+(UH+UO))",
    "RR3": "I/((I+P)+(R+NC+O)+e(UH+UO))",
    "RR4": "(I+P)/((I+P)+(R+NC+O)+e(UH+UO))",
    "RR5": "I/((I+P)+(R+NC+O))",
    "RR6": "(I+P)/((I+P)+(R+NC+O))",
    "COOP1": "I/((I+P)+R+O)",
    "COOP2": "(I+P)/((I+P)+R+O)",
    "COOP3": "I/((I+P)+R)",
    "COOP4": "(I+P)/((I+P)+R)",
    "REF1": "R/((I+P)+(R+NC+O)+(UH+UO))",
    "REF2": "R/((I+P)+(R+NC+O)+e(UH+UO))",
    "REF3": "R/((I+P)+(R+NC+O))",
    "CON1": "((I+P)+R+O)/((I+P)+(R+NC+O)+(UH+UO))",
    "CON2": "((I+P)+R+O)/((I+P)+(R+NC+O)+e(UH+UO))",
    "CON3": "((I+P)+R+O)/((I+P)+(R+NC+O))",
}
RATE_LABELS = {
    "RR1": "应答率1", "RR2": "应答率2", "RR3": "应答率3", "RR4": "应答率4", "RR5": "应答率5",
    "RR6": "应答率6", "COOP1": "合作率1", "COOP2": "合作率2", "COOP3": "合作率3",
    "COOP4": "合作率4", "REF1": "拒访率1", "REF2": "拒访率2", "REF3": "拒访率3",
    "CON1": "接触率1", "CON2": "接触率2", "CON3": "接触率3",
}


def parts(name: str, o: Outcomes, e: Number | None = None) -> Parts | None:
    """The rate's numerator and denominator; None when it needs an e that cannot be known."""
    return PART_FUNCTIONS[name](o, e)


def _ratio(p: Parts | None) -> float | None:
    if p is None or p[1] == 0:
        return None
    return float(p[0] / p[1])


def rate(name: str, o: Outcomes, e: Number | None = None) -> float | None:
    """One rate by its AAPOR name ("RR1" … "CON3")."""
    return _ratio(parts(name, o, e))


def rr1(o: Outcomes) -> float | None:
    return rate("RR1", o)


def rr2(o: Outcomes) -> float | None:
    return rate("RR2", o)


def rr3(o: Outcomes, e: Number | None = None) -> float | None:
    return rate("RR3", o, e)


def rr4(o: Outcomes, e: Number | None = None) -> float | None:
    return rate("RR4", o, e)


def rr5(o: Outcomes) -> float | None:
    return rate("RR5", o)


def rr6(o: Outcomes) -> float | None:
    return rate("RR6", o)


def coop1(o: Outcomes) -> float | None:
    return rate("COOP1", o)


def coop2(o: Outcomes) -> float | None:
    return rate("COOP2", o)


def coop3(o: Outcomes) -> float | None:
    return rate("COOP3", o)


def coop4(o: Outcomes) -> float | None:
    return rate("COOP4", o)


def ref1(o: Outcomes) -> float | None:
    return rate("REF1", o)


def ref2(o: Outcomes, e: Number | None = None) -> float | None:
    return rate("REF2", o, e)


def ref3(o: Outcomes) -> float | None:
    return rate("REF3", o)


def con1(o: Outcomes) -> float | None:
    return rate("CON1", o)


def con2(o: Outcomes, e: Number | None = None) -> float | None:
    return rate("CON2", o, e)


def con3(o: Outcomes) -> float | None:
    return rate("CON3", o)


def all_rates(o: Outcomes, e: Number | None = None) -> dict[str, float | None]:
    """Every rate, in AAPOR's order."""
    return {name: rate(name, o, e) for name in RATES}


def working(name: str, o: Outcomes, e: Number | None = None) -> str:
    """The rate's working as a reader checks it: `RR1 = I/(…) = 40/100`."""
    p = parts(name, o, e)
    if p is None:
        return f"{name} = {FORMULAS[name]}：资格已知的个案为 0，e 无法估计"
    num, den = (_plain(v) for v in p)
    return f"{name} = {FORMULAS[name]} = {num}/{den}"


def _plain(value: Rational) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.2f}"
