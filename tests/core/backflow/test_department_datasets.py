"""The datasets of 民政 (救助, 津贴), 医保, 殡葬, 卫健 and 残联: header detection, every row check
with its reason code, snapshot and delta semantics, history, and a package that carries them."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from govshare_desktop.core.backflow.fields import datasets, detect
from govshare_desktop.core.backflow.packages import DATASET_ORDER, import_package
from govshare_desktop.core.backflow.pipeline import import_file
from govshare_desktop.core.backflow.targets import TARGETS
from govshare_desktop.core.domain import idnumber
from govshare_desktop.core.exchange.package import build_package
from govshare_desktop.core.exchange.trust import trust_sender
from govshare_desktop.core.store.models import (
    AllowancePayment,
    Assistance,
    Batch,
    Cremation,
    DeathCertificate,
    DisabilityCard,
    Enrollment,
    MedicalEnrollment,
    RecordHistory,
)
from tests.core.backflow.test_packages import COUNTY, TOWNSHIP, _key
from tests.core.backflow.test_pipeline import write_csv

NOW = datetime(2026, 11, 5, 9, 0)  # the import day: 2026-11-05
ID_A = idnumber.make("441900", date(1950, 3, 4), 11, male=True)
ID_B = idnumber.make("441900", date(1986, 7, 1), 12, male=False)
ID_C = idnumber.make("441900", date(1940, 12, 1), 13, male=True)
ID_D = idnumber.make("441900", date(2001, 5, 20), 14, male=False)
BAD_CHECKSUM = ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1")

DEPARTMENT_DATASETS = (
    "assistance",
    "allowance_payment",
    "medical_enrollment",
    "cremation",
    "death_certificate",
    "disability_card",
)


def _import(store, path: Path, **options):
    return import_file(store, path, user="test", now=NOW, **options)


def _rejections(result) -> dict[int, tuple[str, str, str]]:
    return {r.row: (r.column, r.reason_code, r.message) for r in result.rejections}


def _chinese(message: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", message) is not None


def _check_rejections(result, expected: dict[int, tuple[str, str]]) -> None:
    """Each bad row refused with its column (as the file heads it) and reason, and a Chinese
    message that names that column."""
    got = _rejections(result)
    assert {row: (column, reason) for row, (column, reason, _) in got.items()} == expected
    for row, (column, reason, message) in got.items():
        assert _chinese(message), (row, message)
        if reason in ("end_before_start", "date_in_future", "negative_amount"):
            assert column in message, (row, column, message)


# ---------------------------------------------------------------- which dataset a header is


@pytest.mark.parametrize(
    ("headers", "dataset"),
    [
        (
            "序号,所属村（社区）,户主姓名,姓名,与户主关系,身份证号码,救助类别,保障人数,"
            "月救助金额（元）,享受开始日期,停止日期,保障状态",
            "assistance",
        ),
        ("姓名,身份证号,保障类别,救助金额（元）,开始日期,停止日期,状态", "assistance"),
        ("序号,姓名,身份证号,补贴类别,发放年月,发放金额（元）,发放日期", "allowance_payment"),
        ("姓名,公民身份号码,津贴类型,所属年月,金额", "allowance_payment"),
        (
            "个人编号,姓名,证件号码,险种类型,参保状态,参保身份,资助类型,缴费年度,"
            "个人缴费（元）,参保日期",
            "medical_enrollment",
        ),
        (
            "序号,死者姓名,性别,死者身份证号,年龄,死亡日期,火化日期,火化证明编号,承办殡仪馆,户籍地址",
            "cremation",
        ),
        (
            "死者姓名,性别,身份证件号码,出生日期,死亡日期,死亡地点,根本死亡原因,"
            "死亡医学证明编号,签发机构,签发日期",
            "death_certificate",
        ),
        (
            "序号,姓名,性别,身份证号,残疾人证号,残疾类别,残疾等级,发证日期,有效期至,证件状态",
            "disability_card",
        ),
        # only the columns 人社 and 医保 share: 人社's (the clerk may switch it); one more, 医保's
        ("身份证号,姓名,险种,参保状态,参保日期", "ss_enrollment"),
        ("身份证号,姓名,险种,参保状态,参保日期,参保身份", "medical_enrollment"),
        # the earlier datasets are still what they were
        ("社会保障号码,姓名,发放年月,基础养老金,个人账户养老金,实发金额,发放日期", "ss_payment"),
        ("社会保障号码,姓名,险种,参保状态,缴费档次（元/年）,参保日期", "ss_enrollment"),
        ("公民身份号码,姓名,性别,出生日期,户号,与户主关系,人员状态,变动日期", "person"),
    ],
)
def test_headers_pick_the_dataset(headers: str, dataset: str) -> None:
    assert detect(headers.split(",")).dataset == dataset


def test_the_cause_of_death_is_recognised_and_not_kept() -> None:
    mapping = detect(["死者姓名", "身份证件号码", "死亡日期", "根本死亡原因"])
    assert mapping.spec.field(mapping.fields[3]).type == "ignore"


def test_every_new_dataset_is_in_the_package_order_after_person() -> None:
    from govshare_desktop.cli.common import IMPORT_DATASET_CHOICES

    assert set(DEPARTMENT_DATASETS) <= set(DATASET_ORDER)
    assert all(DATASET_ORDER.index(d) > DATASET_ORDER.index("person") for d in DEPARTMENT_DATASETS)
    assert set(DATASET_ORDER) == set(TARGETS) == set(datasets()) == set(IMPORT_DATASET_CHOICES)


# ---------------------------------------------------------------- row checks, dataset by dataset


def test_assistance_rows(township, tmp_path) -> None:
    path = write_csv(
        tmp_path / "救助_2026-10.csv",
        "身份证号码,姓名,救助类别,保障人数,月救助金额（元）,享受开始日期,停止日期,保障状态,所属村（社区）",
        f"{ID_A},张三,农村低保,2,650.00,2020-03-01,,在保,东岭村",  # 2 good
        f"{ID_B},王芳,农村低保,2,650.00,2020-03-01,2026-06-30,停保,东岭村",  # 3 good, stopped
        f"{ID_C},李四,特困,1,1820,2019-01-01,2018-12-31,在保,西塘村",  # 4 stop before start
        f"{ID_D},赵六,低保,3,-50,2024-01-01,,在保,西塘村",  # 5 negative
        f"{ID_D},赵六,低收入,3,300,2024-01-01,,在保,西塘村",  # 6 unknown category
        f"{BAD_CHECKSUM},钱七,城市低保,1,300,2024-01-01,,在保,青禾社区",  # 7 checksum
        f"{ID_D},赵六,城市低保,0,300,2024-01-01,,在保,青禾社区",  # 8 保障人数 0
        f"{ID_A},张三,农村低保,2,650.00,2020-03-01,,在保,东岭村",  # 9 duplicate of 2
        f"{ID_C},李四,农村特困,1,1820,2019-01-01,,在保,西塘村",  # 10 good
    )
    result = _import(township, path)
    assert result.dataset == "assistance"
    _check_rejections(
        result,
        {
            4: ("停止日期", "end_before_start"),
            5: ("月救助金额(元)", "negative_amount"),
            6: ("救助类别", "unknown_code"),
            7: ("身份证号码", "id_number_checksum"),
            8: ("保障人数", "bad_value"),
            9: ("身份证号码", "duplicate_in_file"),
        },
    )
    assert "第 2 行" in _rejections(result)[9][2]
    assert result.inserted == 3
    with township.sessions() as session:
        rows = {
            (a.id_number, a.category_code): (
                a.name,
                a.household_size,
                a.monthly_fen,
                a.start_date,
                a.end_date,
                a.status_code,
                a.village_code,
            )
            for a in session.scalars(select(Assistance))
        }
    assert rows == {
        (ID_A, "12"): ("张三", 2, 65_000, date(2020, 3, 1), None, "1", "441900199201"),
        (ID_B, "12"): ("王芳", 2, 65_000, date(2020, 3, 1), date(2026, 6, 30), "3", "441900199201"),
        (ID_C, "22"): ("李四", 1, 182_000, date(2019, 1, 1), None, "1", "441900199202"),
    }


def test_assistance_status_follows_the_stop_date_when_the_file_has_none(township, tmp_path) -> None:
    path = write_csv(
        tmp_path / "低保.csv",
        "身份证号,姓名,保障类别,开始日期,停止日期",
        f"{ID_A},张三,城市低保,2021-01-01,2026-09-30",
        f"{ID_B},王芳,城市低保,2021-01-01,",
        f"{ID_C},李四,城市低保,2021-01-01,2026-12-31",  # stops after the import day
    )
    _import(township, path)
    with township.sessions() as session:
        status = dict(session.execute(select(Assistance.id_number, Assistance.status_code)).all())
    assert status == {ID_A: "3", ID_B: "1", ID_C: "1"}


def test_allowance_payment_rows(township, tmp_path) -> None:
    path = write_csv(
        tmp_path / "津贴_202609-202610.csv",
        "姓名,身份证号,补贴类别,发放年月,发放金额（元）,发放日期",
        f"张三,{ID_A},高龄津贴,202609,100.00,2026-09-15",  # 2
        f"张三,{ID_A},高龄津贴,2026-10,100.00,2026-10-15",  # 3
        f"张三,{ID_A},重度残疾人护理补贴,202610,260.00,2026-10-15",  # 4: other category, same month
        f"王芳,{ID_B},困难残疾人生活补贴,202612,190.00,",  # 5 month after the import month
        f"王芳,{ID_B},困难残疾人生活补贴,202610,-190.00,2026-10-15",  # 6 negative
        f"王芳,{ID_B},生活补贴,202610,190.00,2026-11-20",  # 7 paid after the import day
        f"王芳,{ID_B},交通补贴,202610,50.00,2026-10-15",  # 8 unknown category
        f"王芳,{ID_B},生活补贴,2026-13,190.00,2026-10-15",  # 9 bad month
        f"张三,{ID_A},高龄津贴,202610,100.00,2026-10-15",  # 10 duplicate of 3
    )
    result = _import(township, path)
    assert result.dataset == "allowance_payment"
    _check_rejections(
        result,
        {
            5: ("发放年月", "date_in_future"),
            6: ("发放金额(元)", "negative_amount"),
            7: ("发放日期", "date_in_future"),
            8: ("补贴类别", "unknown_code"),
            9: ("发放年月", "bad_period"),
            10: ("身份证号", "duplicate_in_file"),
        },
    )
    assert result.inserted == 3
    assert result.summary["total_fen"] == 10_000 + 10_000 + 26_000
    assert result.summary["periods"] == [202609, 202610]
    with township.sessions() as session:
        keys = set(
            session.execute(
                select(
                    AllowancePayment.id_number,
                    AllowancePayment.category_code,
                    AllowancePayment.period,
                    AllowancePayment.amount_fen,
                )
            ).all()
        )
    assert keys == {
        (ID_A, "1", 202609, 10_000),
        (ID_A, "1", 202610, 10_000),
        (ID_A, "3", 202610, 26_000),
    }


def test_medical_enrollment_rows(township, tmp_path) -> None:
    path = write_csv(
        tmp_path / "医保_2026-10.csv",
        "个人编号,姓名,证件号码,险种类型,参保状态,参保身份,资助类型,缴费年度,个人缴费（元）,参保日期",
        f"M001,张三,{ID_A},城乡居民医保,正常参保,低保对象,定额资助,2026,120,2012-01-01",  # 2
        f"M002,王芳,{ID_B},职工基本医疗保险,参保缴费,在职职工,,2026,,2010-07-01",  # 3
        f"M003,李四,{ID_C},城乡居民基本医疗保险,正常参保,特困,全额资助,2026年,0,2012-01-01",  # 4
        f"M004,赵六,{ID_D},390,正常参保,学生儿童,无,2026,-400,2012-01-01",  # 5 negative
        f"M004,赵六,{ID_D},390,正常参保,学生儿童,无,2029,400,2012-01-01",  # 6 year too far
        f"M004,赵六,{ID_D},170,正常参保,学生儿童,无,2026,400,2012-01-01",  # 7 not a medical scheme
        f"M004,赵六,{ID_D},390,正常参保,学生儿童,无,二〇二六,400,2012-01-01",  # 8 bad year
        f"M004,赵六,{ID_D},居民医保,正常参保,学生儿童,无,2027,400,2012-01-01",  # 9 good: next year
    )
    result = _import(township, path)
    assert result.dataset == "medical_enrollment"
    _check_rejections(
        result,
        {
            5: ("个人缴费(元)", "negative_amount"),
            6: ("缴费年度", "date_in_future"),
            7: ("险种类型", "unknown_code"),
            8: ("缴费年度", "bad_value"),
        },
    )
    with township.sessions() as session:
        rows = {
            m.id_number: (
                m.scheme_code,
                m.status_code,
                m.identity_code,
                m.subsidy_code,
                m.year,
                m.personal_fen,
            )
            for m in session.scalars(select(MedicalEnrollment))
        }
        batch = session.get(Batch, result.batch_id)
        assert batch.source_department == "医疗保障部门"
    assert rows == {
        ID_A: ("390", "1", "32", "2", 2026, 12_000),
        ID_B: ("310", "1", "11", None, 2026, None),
        ID_C: ("390", "1", "31", "1", 2026, 0),
        ID_D: ("390", "1", "22", "0", 2027, 40_000),
    }


def test_cremation_rows(township, tmp_path) -> None:
    born = date(1950, 3, 4)  # ID_A
    path = write_csv(
        tmp_path / "火化_2026-10.csv",
        "死者姓名,性别,死者身份证号,死亡日期,火化日期,火化证明编号,承办殡仪馆",
        f"张三,男,{ID_A},2026-10-02,2026-10-05,HH2026000101,东莞市殡仪馆",  # 2 good
        f"李四,男,{ID_C},2026-10-08,2026-10-06,HH2026000102,东莞市殡仪馆",  # 3 cremated before death
        f"王芳,女,{ID_B},2026-11-20,2026-11-22,HH2026000103,东莞市殡仪馆",  # 4 death in the future
        f"王芳,女,{ID_B},2026-11-01,2026-11-09,HH2026000103,东莞市殡仪馆",  # 5 cremation in the future
        f"赵六,女,{ID_D},1999-01-01,2001-06-01,HH2026000104,东莞市殡仪馆",  # 6 died before birth
        f"赵六,女,{ID_D},2026-10-10,,HH2026000104,东莞市殡仪馆",  # 7 no cremation date
        f"赵六,女,{ID_D},2026-10-10,2026-10-12,HH2026000104,东莞市殡仪馆",  # 8 good
    )
    result = _import(township, path)
    assert result.dataset == "cremation"
    _check_rejections(
        result,
        {
            3: ("火化日期", "end_before_start"),
            4: ("死亡日期", "date_in_future"),
            5: ("火化日期", "date_in_future"),
            6: ("死亡日期", "inconsistent_with_id"),
            7: ("火化日期", "missing_required"),
        },
    )
    assert "2001-05-20" in _rejections(result)[6][2]  # the birth date in the ID number
    with township.sessions() as session:
        rows = {
            c.id_number: (c.death_date, c.cremation_date, c.funeral_home)
            for c in session.scalars(select(Cremation))
        }
    assert rows == {
        ID_A: (date(2026, 10, 2), date(2026, 10, 5), "东莞市殡仪馆"),
        ID_D: (date(2026, 10, 10), date(2026, 10, 12), "东莞市殡仪馆"),
    }
    assert born < date(2026, 10, 2)


def test_death_certificate_rows(township, tmp_path) -> None:
    path = write_csv(
        tmp_path / "死亡证明_2026-10.csv",
        "死者姓名,性别,身份证件号码,死亡日期,死亡地点,根本死亡原因,死亡医学证明编号,签发机构,签发日期",
        f"张三,男,{ID_A},2026-10-02,家中,脑梗死,4419202600101,青禾镇卫生院,2026-10-02",  # 2
        f"李四,男,{ID_C},2026-10-08,医院,肺炎,4419202600102,东莞市青禾医院,2026-10-07",  # 3
        f"王芳,女,{ID_B},2026-12-01,医院,,4419202600103,东莞市青禾医院,2026-12-01",  # 4
        f"赵六,女,{ID_D},2026-10-10,火星,,4419202600104,东莞市青禾医院,2026-10-10",  # 5
        f"赵六,女,{ID_D},2026-10-10,医疗卫生机构,,4419202600104,东莞市青禾医院,2026-10-11",  # 6
    )
    result = _import(township, path)
    assert result.dataset == "death_certificate"
    _check_rejections(
        result,
        {
            3: ("签发日期", "end_before_start"),
            4: ("死亡日期", "date_in_future"),
            5: ("死亡地点", "unknown_code"),
        },
    )
    with township.sessions() as session:
        rows = {
            d.id_number: (d.death_date, d.place_code, d.certificate_no, d.institution)
            for d in session.scalars(select(DeathCertificate))
        }
        # the cause of death was read past, not kept anywhere
        assert "脑梗死" not in json.dumps(
            [list(r) for r in session.execute(text("SELECT * FROM death_certificate")).all()],
            ensure_ascii=False,
            default=str,
        )
    assert rows == {
        ID_A: (date(2026, 10, 2), "3", "4419202600101", "青禾镇卫生院"),
        ID_D: (date(2026, 10, 10), "1", "4419202600104", "东莞市青禾医院"),
    }


def test_disability_card_rows(township, tmp_path) -> None:
    path = write_csv(
        tmp_path / "残疾人证_2026-10.csv",
        "姓名,性别,身份证号,残疾人证号,残疾类别,残疾等级,发证日期,有效期至,证件状态",
        f"张三,男,{ID_A},{ID_A}42,肢体残疾,二级,2019-05-06,2029-05-05,正常",  # 2 good
        f"王芳,女,{ID_B},{ID_B}13,视力,3级,2024-02-01,2023-02-01,正常",  # 3 valid before issue
        f"王芳,女,{ID_B},{ID_B}13,视力,3级,2026-12-01,2036-12-01,正常",  # 4 issued in the future
        f"王芳,女,{ID_B},{ID_A}13,视力,3级,2024-02-01,2034-02-01,正常",  # 5 someone else's ID
        f"王芳,女,{ID_B},{ID_B}14,视力,3级,2024-02-01,2034-02-01,正常",  # 6 level digit wrong
        f"王芳,女,{ID_B},{ID_B}13,视力,五级,2024-02-01,2034-02-01,正常",  # 7 unknown level
        f"李四,男,{ID_C},{ID_C.lower()}71 ,多重,一级,2016-01-01,2026-01-01,注销",  # 8 good
        f"赵六,女,{ID_D},{ID_D}53,智力,三级,1999-01-01,2009-01-01,正常",  # 9 issued before birth
        f"赵六,女,{ID_D},,智力残疾,,2021-01-01,,",  # 10 good: card number and level missing
    )
    result = _import(township, path)
    assert result.dataset == "disability_card"
    _check_rejections(
        result,
        {
            3: ("有效期至", "end_before_start"),
            4: ("发证日期", "date_in_future"),
            5: ("残疾人证号", "inconsistent_with_id"),
            6: ("残疾人证号", "card_number_mismatch"),
            7: ("残疾等级", "unknown_code"),
            9: ("发证日期", "inconsistent_with_id"),
        },
    )
    assert "视力残疾、三级" in _rejections(result)[6][2]
    with township.sessions() as session:
        rows = {
            d.id_number: (d.card_no, d.category_code, d.level_code, d.valid_until, d.status_code)
            for d in session.scalars(select(DisabilityCard))
        }
    assert rows == {
        ID_A: (f"{ID_A}42", "4", "2", date(2029, 5, 5), "1"),
        ID_C: (f"{ID_C}71", "7", "1", date(2026, 1, 1), "2"),
        ID_D: (None, "5", None, None, "1"),
    }


# ---------------------------------------------------------------- applying


def test_assistance_snapshot_covers_its_categories_and_keeps_history(township, tmp_path) -> None:
    header = "身份证号,姓名,救助类别,月救助金额（元）,开始日期,停止日期"
    first = write_csv(
        tmp_path / "a1.csv",
        header,
        f"{ID_A},张三,农村低保,650,2020-03-01,",
        f"{ID_B},王芳,农村低保,650,2020-03-01,",
    )
    _import(township, first, as_of=date(2026, 9, 30))
    tekun = write_csv(tmp_path / "t1.csv", header, f"{ID_C},李四,农村特困,1820,2019-01-01,")
    _import(township, tekun, as_of=date(2026, 9, 30))
    # October: 王芳 no longer in the 低保 list, 张三 stopped; the 特困 list was not sent
    second = write_csv(
        tmp_path / "a2.csv", header, f"{ID_A},张三,农村低保,650,2020-03-01,2026-10-31"
    )
    result = _import(township, second, as_of=date(2026, 10, 31))
    assert (result.updated, result.absent) == (1, 1)
    assert [a["key"] for a in result.report.absent] == [f"{ID_B}|12"]
    with township.sessions() as session:
        absent = dict(
            session.execute(select(Assistance.id_number, Assistance.absent_batch_id)).all()
        )
        assert absent[ID_B] == result.batch_id  # marked, not deleted
        assert absent[ID_C] is None  # another category: not covered by a 低保 file
        history = set(
            session.execute(
                select(RecordHistory.field, RecordHistory.old_value, RecordHistory.new_value).where(
                    RecordHistory.dataset == "assistance",
                    RecordHistory.record_key == f"{ID_A}|12",
                )
            ).all()
        )
    assert ("end_date", None, "2026-10-31") in history
    assert ("status_code", "1", "3") in history
    fields = {c["field"] for c in result.report.field_changes}
    assert {"停止日期", "保障状态"} <= fields
    # a delta marks nothing absent
    delta = write_csv(tmp_path / "a3.csv", header, f"{ID_B},王芳,农村低保,700,2020-03-01,")
    again = _import(township, delta, full_snapshot=False)
    assert (again.updated, again.absent) == (1, 0)  # back, and with the new amount


def test_allowance_snapshot_covers_its_categories_and_months(township, tmp_path) -> None:
    header = "身份证号,姓名,补贴类别,发放年月,发放金额（元）"
    _import(
        township,
        write_csv(
            tmp_path / "g1.csv",
            header,
            f"{ID_A},张三,高龄津贴,202609,100",
            f"{ID_C},李四,高龄津贴,202609,100",
            f"{ID_C},李四,高龄津贴,202610,100",
            f"{ID_C},李四,护理补贴,202609,260",
        ),
    )
    # a 高龄津贴 file of September only: 张三 left out; 李四's October and his 护理补贴 untouched
    result = _import(
        township, write_csv(tmp_path / "g2.csv", header, f"{ID_C},李四,高龄津贴,202609,100")
    )
    assert (result.unchanged, result.absent) == (1, 1)
    assert [a["key"] for a in result.report.absent] == [f"{ID_A}|1|202609"]


def test_death_certificate_snapshot_covers_the_whole_table(township, tmp_path) -> None:
    header = "死者姓名,身份证件号码,死亡日期,死亡医学证明编号"
    _import(
        township,
        write_csv(
            tmp_path / "d1.csv",
            header,
            f"张三,{ID_A},2026-10-02,0101",
            f"李四,{ID_C},2026-10-08,0102",
        ),
    )
    reissued = write_csv(tmp_path / "d2.csv", header, f"张三,{ID_A},2026-10-02,0101-补")
    result = _import(township, reissued)
    assert (result.updated, result.absent) == (1, 1)
    with township.sessions() as session:
        number = session.scalar(
            select(DeathCertificate.certificate_no).where(DeathCertificate.id_number == ID_A)
        )
        assert number == "0101-补"


def test_reimporting_a_department_file_changes_nothing(township, tmp_path) -> None:
    path = write_csv(
        tmp_path / "残疾人证.csv",
        "姓名,身份证号,残疾人证号,残疾类别,残疾等级,发证日期,有效期至",
        f"张三,{ID_A},{ID_A}42,肢体,二级,2019-05-06,2029-05-05",
        f"王芳,{ID_B},{ID_B}13,视力,三级,2024-02-01,2034-02-01",
    )
    _import(township, path)
    again = _import(township, path)
    assert (again.inserted, again.updated, again.unchanged, again.absent) == (0, 0, 2, 0)


def test_dry_run_of_a_department_file_keeps_nothing(township, tmp_path) -> None:
    path = write_csv(
        tmp_path / "火化.csv",
        "死者姓名,死者身份证号,死亡日期,火化日期",
        f"张三,{ID_A},2026-10-02,2026-10-05",
    )
    dry = _import(township, path, dry_run=True)
    assert dry.inserted == 1 and dry.batch_id is None
    with township.sessions() as session:
        assert session.scalars(select(Cremation)).all() == []


def test_an_enrollment_status_change_is_applied(township, tmp_path) -> None:
    """缴费状态 is stored as status_code: a change of it is an update with its history (it used to
    be compared under the field's own key and never applied)."""
    header = "社会保障号码,姓名,险种,参保状态"
    _import(township, write_csv(tmp_path / "e1.csv", header, f"{ID_A},张三,170,参保缴费"))
    result = _import(township, write_csv(tmp_path / "e2.csv", header, f"{ID_A},张三,170,暂停缴费"))
    assert result.updated == 1
    assert [(c["id_number"], c["field"], c["new"]) for c in result.report.ss_changes] == [
        (ID_A, "缴费状态", "暂停缴费")
    ]
    with township.sessions() as session:
        assert session.scalar(select(Enrollment.status_code)) == "2"


# ---------------------------------------------------------------- in a package


def test_a_package_carrying_department_datasets_applies(township, tmp_path) -> None:
    private, public = _key()
    with township.transaction() as session:
        trust_sender(session, public, code=COUNTY, name="东莞市", user="admin", now=NOW)
    files = {
        "data/cremation.csv": (
            "cremation",
            "东莞市民政局",
            f"死者姓名,死者身份证号,死亡日期,火化日期\n张三,{ID_A},2026-10-02,2026-10-05\n",
        ),
        "data/assistance.csv": (
            "assistance",
            "东莞市民政局",
            f"身份证号,姓名,救助类别,月救助金额（元）\n{ID_A},张三,农村低保,650\n"
            f"{ID_B},王芳,农村低保,650\n",
        ),
        "data/disability_card.csv": (
            "disability_card",
            "东莞市残疾人联合会",
            f"姓名,身份证号,残疾类别,残疾等级\n王芳,{ID_B},肢体,二级\n",
        ),
    }
    manifest = {
        "format": "govshare-exchange/1",
        "package_id": "6c1d3f1e-1b8a-4f1e-9d7e-000000000016",
        "kind": "backflow",
        "sender": {"code": COUNTY, "name": "东莞市政务服务和数据管理局"},
        "recipient": {"code": TOWNSHIP, "name": "青禾镇人民政府"},
        "sequence": 1,
        "created_at": "2026-10-31T09:00:00+08:00",
        "as_of": "2026-10-31",
        "files": [
            {
                "path": path,
                "dataset": dataset,
                "source_department": source,
                "format": "csv",
                "encoding": "utf-8",
                "rows": data.count("\n") - 1,
            }
            for path, (dataset, source, data) in files.items()
        ],
    }
    package = tmp_path / "回流数据包_0001.zip"
    package.write_bytes(
        build_package(manifest, {p: d.encode("utf-8") for p, (_, _, d) in files.items()}, private)
    )
    result = import_package(township, package, user="test", now=NOW)
    assert result.status == "applied", result.message
    # applied in DATASET_ORDER, whatever the manifest's order
    assert [(d.dataset, d.inserted) for d in result.datasets] == [
        ("assistance", 2),
        ("disability_card", 1),
        ("cremation", 1),
    ]
    with township.sessions() as session:
        sources = dict(session.execute(select(Batch.dataset, Batch.source_department)).all())
    assert sources["disability_card"] == "东莞市残疾人联合会"
