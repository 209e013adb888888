"""The sample files of the 民政, 医保, 殡葬, 卫健 and 残联 datasets, in the shapes those departments'
county systems export, for the people of the 户籍 sample (青禾镇_户籍人口回流_2026-10.xlsx) and the
职工 of the 参保 sample — so that the samples imported together join up.

Unlike the 公安/人社 samples (copies of ../shared/samples), these are made here, deterministically:

    .venv/bin/python -m tests.department_samples       # writes them into tests/data/samples

and ``tests/core/backflow/test_department_samples.py`` checks that the files in the repository are
what this writes (cell by cell for workbooks, byte by byte for CSV) and that each imports cleanly.

One finding for the cross-checks is in them on purpose, as in the 待遇发放 sample: a 低保 member who
died (the 户籍 sample says 死亡注销, the 火化 sample has the cremation) is still listed 在保 —
``cross_checks`` in the 救助 sample's ``.expected.json`` names them.
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font

from govshare_desktop.core.domain import idnumber

SAMPLE_DIR = Path(__file__).resolve().parent / "data" / "samples"
PERSON_WORKBOOK = "青禾镇_户籍人口回流_2026-10.xlsx"
ENROLLMENT_CSV = "青禾镇_城乡居民养老保险参保_2026-10.csv"
AS_OF = date(2026, 10, 31)
MONTHS = (202608, 202609, 202610)

FILES = {
    "assistance": "青禾镇_低保特困救助对象花名册_2026-10.xlsx",
    "allowance_payment": "青禾镇_高龄津贴和残疾人两项补贴发放明细_202608-202610.csv",
    "medical_enrollment": "青禾镇_基本医疗保险参保人员_2026-10.csv",
    "cremation": "青禾镇_火化信息_2026-10.xlsx",
    "death_certificate": "青禾镇_死亡医学证明信息_2026-10.csv",
    "disability_card": "青禾镇_持证残疾人信息_2026-10.xlsx",
}
CATEGORY_NAMES = {"11": "城市低保", "12": "农村低保", "21": "城市特困", "22": "农村特困"}
DISABILITY = {"1": "视力残疾", "2": "听力残疾", "3": "言语残疾", "4": "肢体残疾", "5": "智力残疾"}
DISABILITY |= {"6": "精神残疾", "7": "多重残疾"}
LEVELS = {"1": "一级", "2": "二级", "3": "三级", "4": "四级"}
CAUSES = (
    "脑梗死",
    "肺恶性肿瘤",
    "慢性阻塞性肺疾病",
    "高血压性心脏病",
    "冠状动脉粥样硬化性心脏病",
    "肝恶性肿瘤",
    "肺炎",
)
FIXED_TIME = datetime(2026, 11, 2, 9, 0)  # the workbooks' created/modified


@dataclass
class Person:
    id_number: str
    name: str
    sex: str
    birth: date
    household_no: str
    relationship: str
    village: str
    address: str
    status: str
    status_date: date | None

    def age_on(self, day: date) -> int:
        born = self.birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def read_persons(samples: Path = SAMPLE_DIR) -> list[Person]:
    """The people of the 户籍 sample whose ID numbers are valid (two rows are not, on purpose)."""
    sheet = load_workbook(samples / PERSON_WORKBOOK, read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[2])
    at = {name: header.index(name) for name in header}
    persons = []
    for row in rows[3:]:
        number = row[at["公民身份号码"]]
        if not isinstance(number, str):
            continue
        try:
            number = idnumber.validate(number)
        except idnumber.IdNumberError:
            continue
        changed = row[at["变动日期"]]
        persons.append(
            Person(
                id_number=number,
                name=row[at["姓名"]],
                sex=row[at["性别"]],
                birth=idnumber.parse(number).birth_date,
                household_no=row[at["户号"]],
                relationship=row[at["与户主关系"]],
                village=row[at["所属村（社区）"]],
                address=row[at["住址"]],
                status=row[at["人员状态"]],
                status_date=_day(changed),
            )
        )
    return persons


def _day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).replace("/", "-"))


def employees(samples: Path = SAMPLE_DIR) -> dict[str, date]:
    """ID number → 参保日期 of the 企业职工 in the 参保 sample (they are in 职工医保)."""
    text = (samples / ENROLLMENT_CSV).read_bytes().decode("gb18030")
    found = {}
    for row in csv.DictReader(io.StringIO(text)):
        if row["险种类型"].startswith("企业职工"):
            found[row["社会保障号码"]] = datetime.strptime(row["参保日期"], "%Y%m%d").date()
    return found


def _between(rng: random.Random, low: date, high: date) -> date:
    high = max(low, high)
    return date.fromordinal(rng.randint(low.toordinal(), high.toordinal()))


def _month_end(period: int) -> date:
    year, month = divmod(period, 100)
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


# ---------------------------------------------------------------- drawing who is in which file


@dataclass
class Care:
    person: Person
    head: str
    category: str
    size: int
    monthly_fen: int
    start: date
    end: date | None


@dataclass
class Card:
    person: Person
    category: str
    level: str
    issued: date
    status: str


def draw(persons: list[Person]) -> tuple[list[Care], list[Card], Person | None]:
    """Who is in care (低保 families, 特困) and who holds a 残疾人证; and the one deceased 低保
    member left 在保 (the sample's cross-check finding)."""
    rng = random.Random("青禾镇-department-samples")
    households: dict[str, list[Person]] = {}
    for p in persons:
        households.setdefault(p.household_no, []).append(p)
    dead = [p for p in persons if p.status == "死亡注销" and p.relationship != "户主"]
    kept = dead[len(dead) // 2] if dead else None
    care: list[Care] = []
    for members in households.values():
        head = members[0]
        urban = head.village.startswith("青禾社区")
        chosen = kept is not None and kept in members
        if len(members) == 1 and head.age_on(AS_OF) >= 60 and rng.random() < 0.25:
            start = _between(rng, date(2016, 1, 1), date(2026, 6, 30))
            category = "21" if urban else "22"
            care.append(Care(head, head.name, category, 1, 182_000, start, None))
        elif len(members) > 1 and (chosen or rng.random() < 0.03):
            care += _family(rng, members, "11" if urban else "12", kept)
    cards = []
    for p in persons:
        if rng.random() < (0.02 if p.age_on(AS_OF) < 60 else 0.06):
            high = min(AS_OF - timedelta(days=30), p.status_date or AS_OF)
            low = max(p.birth + timedelta(days=365), date(2017, 1, 1))
            if high < low:
                continue
            issued = _between(rng, low, high)
            category = rng.choices("4126573", weights=(45, 12, 12, 12, 9, 8, 2))[0]
            level = rng.choices("1234", weights=(12, 22, 30, 36))[0]
            status = {"正常": "正常", "死亡注销": "注销"}.get(p.status, "迁出")
            cards.append(Card(p, category, level, issued, status))
    return care, cards, kept


def _family(
    rng: random.Random, members: list[Person], category: str, kept: Person | None
) -> list[Care]:
    latest = date(2026, 6, 30)
    if kept is not None and kept in members and kept.status_date is not None:
        latest = min(latest, kept.status_date - timedelta(days=60))
    start = _between(rng, date(2016, 1, 1), latest)
    amount = rng.randrange(50, 141) * 1_000
    listed = []
    for p in members:
        if p.status_date is not None and p.status_date <= start:
            continue
        end = None if p is kept or p.status == "正常" else p.status_date
        listed.append((p, end))
    size = sum(1 for _, end in listed if end is None) or len(listed)
    return [Care(p, members[0].name, category, size, amount, start, end) for p, end in listed]


# ---------------------------------------------------------------- the files


def _workbook(
    title: str, preamble: str, header: list[list[str]], rows: list[list[Any]], footer: list[str]
) -> Workbook:
    """A sheet as the county systems print them: merged title, source line, header (one or two
    rows), data, 合计 and 制表人 lines."""
    wb = Workbook()
    ws = wb.active
    width = len(header[-1])
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append([preamble])
    for line in header:
        ws.append(line)
    for row in rows:
        ws.append(row)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, (date, datetime)):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(cell.value, float):
                cell.number_format = "0.00"
    for line in footer:
        ws.append([line])
    for column in "ABCDEFGHIJKLM"[:width]:
        ws.column_dimensions[column].width = 20 if column in "DEFJ" else 12
    wb.properties.creator = "govshare sample"
    wb.properties.created = wb.properties.modified = FIXED_TIME
    return wb


def assistance_workbook(care: list[Care]) -> Workbook:
    header = "序号,所属村（社区）,户主姓名,姓名,与户主关系,身份证号码,救助类别,保障人数,"
    header += "月救助金额（元）,享受开始日期,停止日期,保障状态"
    rows = []
    for i, c in enumerate(care, 1):
        p = c.person
        rows.append(
            [
                i,
                p.village,
                c.head,
                p.name,
                "本人" if c.category.startswith("2") else p.relationship,
                p.id_number,
                CATEGORY_NAMES[c.category],
                c.size,
                c.monthly_fen / 100,
                datetime.combine(c.start, datetime.min.time()),
                datetime.combine(c.end, datetime.min.time()) if c.end else None,
                "在保" if c.end is None else "停保",
            ]
        )
    return _workbook(
        "青禾镇城乡最低生活保障和特困人员救助供养对象花名册",
        "数据来源：东莞市民政局    数据时点：2026-10-31",
        [header.split(",")],
        rows,
        [f"合计：{len(rows)}人", "制表人：黄某某    审核人：林某某"],
    )


def allowance_rows(persons: list[Person], care: list[Care], cards: list[Card]) -> list[list[Any]]:
    in_care = {c.person.id_number for c in care if c.end is None and c.person.status == "正常"}
    rows: list[list[Any]] = []

    def pay(p: Person, kind: str, period: int, fen: int) -> None:
        paid = f"{period // 100}-{period % 100:02d}-15"
        rows.append(
            [len(rows) + 1, p.name, p.id_number, kind, period, f"{fen / 100:.2f}", paid, p.village]
        )

    for p in persons:
        last = int(p.status_date.strftime("%Y%m")) if p.status_date else MONTHS[-1]
        for period in MONTHS:
            age = p.age_on(_month_end(period))
            if period <= last and age >= 80:
                pay(
                    p, "高龄津贴", period, 50_000 if age >= 100 else 20_000 if age >= 90 else 10_000
                )
    for card in cards:
        p = card.person
        last = int(p.status_date.strftime("%Y%m")) if p.status_date else MONTHS[-1]
        for period in MONTHS:
            if period < int(card.issued.strftime("%Y%m")) or period > last:
                continue
            if card.status == "正常" and p.id_number in in_care:
                pay(p, "困难残疾人生活补贴", period, 19_000)
            if card.level in "12":
                pay(p, "重度残疾人护理补贴", period, 26_000 if card.level == "1" else 19_000)
    return rows


def medical_rows(persons: list[Person], care: list[Care], cards: list[Card]) -> list[list[Any]]:
    rng = random.Random("青禾镇-medical-sample")
    workers = employees()
    in_care = {c.person.id_number: c.category for c in care if c.end is None}
    severe = {c.person.id_number for c in cards if c.level in "12" and c.status == "正常"}
    rows: list[list[Any]] = []
    for p in persons:
        if p.status != "正常" or rng.random() < 0.03:
            continue
        if p.id_number in workers:
            scheme, identity, subsidy, fen = "职工基本医疗保险", "在职职工", "", ""
            start = workers[p.id_number]
        else:
            scheme, start = (
                "城乡居民基本医疗保险",
                _between(rng, max(p.birth, date(2012, 1, 1)), max(p.birth, date(2015, 12, 31))),
            )
            identity, subsidy, fen = _resident(p, in_care.get(p.id_number), p.id_number in severe)
        number = f"4419000{len(rows) + 1:06d}"  # 医保个人编号 (13 digits: not 人社's 个人编号)
        rows.append(
            [len(rows) + 1, number, p.name, p.sex, p.id_number, scheme, "正常参保", identity, subsidy,
             2026, fen, start.isoformat(), p.village]
        )  # fmt: skip
    return rows


def _resident(p: Person, care: str | None, severe: bool) -> tuple[str, str, str]:
    if care is not None and care.startswith("2"):
        return "特困人员", "全额资助", "0.00"
    if care is not None:
        return "低保对象", "定额资助", "120.00"
    if severe:
        return "重度残疾人", "全额资助", "0.00"
    if p.age_on(AS_OF) < 18:
        return "学生儿童", "无资助", "400.00"
    return "普通居民", "无资助", "400.00"


def cremation_workbook(deceased: list[Person]) -> Workbook:
    rng = random.Random("青禾镇-cremation-sample")
    rows = []
    for i, p in enumerate(deceased, 1):
        died = p.status_date or AS_OF
        cremated = min(died + timedelta(days=rng.randint(1, 4)), AS_OF)
        rows.append(
            [
                i,
                p.name,
                p.sex,
                p.age_on(died),
                p.id_number,
                datetime.combine(died, datetime.min.time()),
                datetime.combine(cremated, datetime.min.time()),
                f"DGHH{cremated.year}{i:05d}",
                "东莞市殡仪馆",
                p.address,
            ]
        )
    header = (
        "序号,死者姓名,性别,年龄,死者身份证号,死亡日期,火化日期,火化证明编号,承办殡仪馆,户籍地址"
    )
    return _workbook(
        "东莞市殡葬服务管理信息系统  火化信息（户籍地：青禾镇）",
        "数据来源：东莞市民政局殡葬管理所    截止日期：2026年10月31日",
        [header.split(",")],
        rows,
        [f"合计：{len(rows)}人"],
    )


def certificate_rows(deceased: list[Person]) -> list[list[Any]]:
    rng = random.Random("青禾镇-certificate-sample")
    rows: list[list[Any]] = []
    for i, p in enumerate(deceased, 1):
        died = p.status_date or AS_OF
        place = rng.choices(("医疗卫生机构", "家中", "养老服务机构"), weights=(55, 40, 5))[0]
        where = "东莞市青禾医院" if place == "医疗卫生机构" else "青禾镇卫生院"
        issued = min(died + timedelta(days=rng.randint(0, 1)), AS_OF)
        rows.append(
            [i, p.name, p.sex, p.id_number, p.birth.isoformat(), died.isoformat(), place,
             rng.choice(CAUSES), f"A44{died.year}{rng.randrange(10**6):06d}", where, issued.isoformat()]
        )  # fmt: skip
    return rows


def card_workbook(cards: list[Card]) -> Workbook:
    rows = []
    for i, card in enumerate(cards, 1):
        p = card.person
        valid = card.issued.replace(year=card.issued.year + 10) - timedelta(days=1)
        rows.append(
            [
                i,
                p.name,
                p.sex,
                p.id_number,
                p.village,
                f"{p.id_number}{card.category}{card.level}",
                DISABILITY[card.category],
                LEVELS[card.level],
                datetime.combine(card.issued, datetime.min.time()),
                datetime.combine(valid, datetime.min.time()),
                card.status,
            ]
        )
    upper = [
        "序号",
        "姓名",
        "性别",
        "身份证号",
        "所属村（社区）",
        "残疾人证信息",
        "",
        "",
        "",
        "",
        "证件状态",
    ]
    lower = ["", "", "", "", "", "残疾人证号", "残疾类别", "残疾等级", "发证日期", "有效期至", ""]
    wb = _workbook(
        "青禾镇持证残疾人基本信息",
        "数据来源：东莞市残疾人联合会    数据时点：2026-10-31",
        [upper, lower],
        rows,
        [f"合计：{len(rows)}人", "制表人：陈某某"],
    )
    ws = wb.active
    for column in range(1, 6):
        ws.merge_cells(start_row=3, start_column=column, end_row=4, end_column=column)
    ws.merge_cells(start_row=3, start_column=6, end_row=3, end_column=10)
    ws.merge_cells(start_row=3, start_column=11, end_row=4, end_column=11)
    return wb


def _csv(header: str, rows: list[list[Any]], encoding: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header.split(","))
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def build(out_dir: Path, samples: Path = SAMPLE_DIR) -> dict[str, Path]:
    """Write the six sample files (and their ``.expected.json``) into ``out_dir``."""
    persons = read_persons(samples)
    care, cards, kept = draw(persons)
    deceased = [p for p in persons if p.status == "死亡注销"]
    paths = {dataset: out_dir / name for dataset, name in FILES.items()}
    assistance_workbook(care).save(paths["assistance"])
    cremation_workbook(deceased).save(paths["cremation"])
    card_workbook(cards).save(paths["disability_card"])
    allowances = allowance_rows(persons, care, cards)
    header = "序号,姓名,身份证号,补贴类别,发放年月,发放金额（元）,发放日期,所属村（社区）"
    paths["allowance_payment"].write_bytes(_csv(header, allowances, "gb18030"))
    medical = medical_rows(persons, care, cards)
    header = "序号,个人编号,姓名,性别,证件号码,险种类型,参保状态,参保身份,资助类型,缴费年度,"
    header += "个人缴费（元）,参保日期,所属村（社区）"
    paths["medical_enrollment"].write_bytes(_csv(header, medical, "utf-8-sig"))
    certificates = certificate_rows(deceased)
    header = "序号,死者姓名,性别,身份证件号码,出生日期,死亡日期,死亡地点,根本死亡原因,"
    header += "死亡医学证明编号,签发机构,签发日期"
    paths["death_certificate"].write_bytes(_csv(header, certificates, "utf-8"))
    counts = {
        "assistance": len(care),
        "allowance_payment": len(allowances),
        "medical_enrollment": len(medical),
        "cremation": len(deceased),
        "death_certificate": len(deceased),
        "disability_card": len(cards),
    }
    for dataset, path in paths.items():
        expected: dict[str, Any] = {
            "dataset": dataset,
            "rows": counts[dataset],
            "accepted": counts[dataset],
            "rejected": [],
        }
        if dataset == "allowance_payment":
            expected["total_fen"] = sum(round(float(r[5]) * 100) for r in allowances)
        if dataset == "assistance":
            expected["cross_checks"] = {
                "assistance_after_cremation": [kept.id_number] if kept else []
            }
        Path(f"{path}.expected.json").write_text(
            json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
    return paths


def main() -> None:
    for path in build(SAMPLE_DIR).values():
        print(path)


if __name__ == "__main__":
    main()
