"""Reading lead files: both formats, Russian Excel habits, defaults, and errors that name the line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.model import Lead
from tests.builders import MSK, manager, policy, pool
from webhook_app.offline.leadfile import LeadFile, LeadFileError

ROOT = Path(__file__).resolve().parents[2]
POLICY = policy([manager("ivanova", 504141), manager("petrov", 504142)], [pool("p", ["ivanova", "petrov"])])


def write(tmp_path: Path, text: str, name: str = "leads.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def read(path: Path, warnings: list[str] | None = None) -> list[Lead]:
    source = LeadFile(path, POLICY, warn=(warnings if warnings is not None else []).append)
    _, disorder = source.scan()
    return list(source.in_time_order(disorder))


def test_a_comma_separated_file_with_a_bom_reads_every_column(tmp_path):
    path = write(tmp_path, "\ufeffid,created_at,name,price,source,utm_source,tags,region,phone,"
                 "field:Форма собственности,field_id:982451\n"
                 "L1,2026-12-02T12:00:00,Заявка,150000,site,yandex,VIP;опт,Москва,+7 (495) 123-45-67,"
                 "Госсектор,1\n")  # fmt: skip
    (lead,) = read(path)
    assert lead.id == "L1" and lead.name == "Заявка" and lead.price == 150000.0
    assert lead.created_at == datetime(2026, 12, 2, 12, 0, tzinfo=MSK)
    assert lead.source == "site" and lead.utm == {"utm_source": "yandex"}
    assert lead.tags == ("VIP", "опт") and lead.region == "Москва"
    assert lead.fields == {"Форма собственности": "Госсектор"} and lead.field_ids == {"982451": "1"}
    assert lead.client_key == "phone:74951234567"


def test_a_russian_excel_export_with_semicolons_decimal_commas_and_dotted_dates_reads(tmp_path):
    path = write(tmp_path, "Created_At;Price;Company;Tags\n02.12.2026 14:30;1 500 000,50;ООО «Ромашка»;a,b\n")
    (lead,) = read(path)
    assert lead.created_at == datetime(2026, 12, 2, 14, 30, tzinfo=MSK)
    assert lead.price == 1_500_000.5 and lead.tags == ("a", "b")
    assert lead.client_key == "company:ромашка"


def test_times_with_an_offset_keep_it_and_naive_times_are_in_the_config_time_zone(tmp_path):
    path = write(tmp_path, "created_at\n2026-12-02T09:00:00Z\n2026-12-02T12:00:01\n")
    first, second = read(path)
    assert first.created_at == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert second.created_at.utcoffset() == MSK.utcoffset(datetime(2026, 12, 2))


def test_empty_cells_mean_no_value_and_the_row_number_is_the_default_id(tmp_path):
    path = write(tmp_path, "created_at,price,region,email,phone\n2026-12-02T12:00,, ,Ivan@Mail.RU,\n")
    (lead,) = read(path)
    assert lead.id == "1" and lead.price is None and lead.region is None and lead.phone is None
    assert lead.client_key == "email:ivan@mail.ru"


def test_a_russian_trunk_prefix_8_becomes_7_in_the_client_key(tmp_path):
    (lead,) = read(write(tmp_path, "created_at,phone\n2026-12-02T12:00,8 916 111-22-33\n"))
    assert lead.client_key == "phone:79161112233"


def test_an_explicit_client_key_wins_over_the_phone(tmp_path):
    (lead,) = read(write(tmp_path, "created_at,phone,client\n2026-12-02T12:00,+79161112233,contact-42\n"))
    assert lead.client_key == "contact-42"


def test_owner_may_be_a_manager_key_or_a_crm_user_id(tmp_path):
    path = write(tmp_path, "created_at,owner\n2026-12-02T12:00,petrov\n2026-12-02T12:01,777\n")
    assert [lead.client_owner for lead in read(path)] == [504142, 777]


def test_an_unknown_owner_is_an_error_naming_the_file_and_line(tmp_path):
    path = write(tmp_path, "created_at,owner\n2026-12-02T12:00,petrov\n2026-12-02T12:01,sidorov\n")
    with pytest.raises(LeadFileError, match=r"leads\.csv:3: owner 'sidorov' is neither"):
        read(path)


def test_a_bad_price_is_an_error_naming_the_line(tmp_path):
    path = write(tmp_path, "created_at,price\n2026-12-02T12:00,100\n2026-12-02T12:01,сто тысяч\n")
    with pytest.raises(LeadFileError, match=r"leads\.csv:3: price 'сто тысяч' is not a number"):
        read(path)


def test_a_bad_date_is_reported_by_the_first_pass_before_any_lead_is_built(tmp_path):
    path = write(tmp_path, "created_at\n2026-12-02T12:00\nвчера\n")
    with pytest.raises(LeadFileError, match=r"leads\.csv:3: created_at 'вчера' is not a date"):
        LeadFile(path, POLICY).scan()


def test_a_missing_created_at_value_is_an_error(tmp_path):
    with pytest.raises(LeadFileError, match=r":2: created_at is required"):
        read(write(tmp_path, "created_at,name\n,Без даты\n"))


def test_a_file_without_a_created_at_column_is_refused_at_the_header(tmp_path):
    with pytest.raises(LeadFileError, match=r"leads\.csv:1: no created_at column \(columns: date, name\)"):
        read(write(tmp_path, "date,name\n2026-12-02,x\n"))


def test_a_row_with_more_cells_than_the_header_hints_at_an_unquoted_separator(tmp_path):
    with pytest.raises(LeadFileError, match=r":2: 3 cells but the header has 2"):
        read(write(tmp_path, "created_at,price\n2026-12-02T12:00,1500,50\n"))


def test_unknown_columns_are_ignored_with_a_warning(tmp_path):
    warnings: list[str] = []
    read(write(tmp_path, "created_at,Бюджет\n2026-12-02T12:00,1\n"), warnings)
    assert warnings == [f"{tmp_path / 'leads.csv'}:1: ignoring unknown columns: бюджет"]


def test_a_file_saved_in_windows_1251_is_refused_with_a_hint(tmp_path):
    path = write(tmp_path, "created_at,name\n2026-12-02T12:00,Заявка\n", encoding="cp1251")
    with pytest.raises(LeadFileError, match="not UTF-8"):
        read(path)


def test_a_missing_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(LeadFileError, match=r"nope\.csv: cannot open"):
        read(tmp_path / "nope.csv")


def test_json_lines_accept_lists_numbers_and_nested_custom_fields(tmp_path):
    text = "\n".join([
        '{"created_at": "2026-12-02T12:00", "price": 1500.5, "tags": ["VIP"], "field_id:7": "1",'
        ' "fields": {"Форма собственности": "Госсектор"}, "utm": {"source": "ya"}}',
        "",
        '{"id": 5, "created_at": "2026-12-02T12:05", "utm_medium": "cpc"}',
    ])  # fmt: skip
    path = write(tmp_path, text + "\n", "leads.jsonl")
    first, second = read(path)
    assert first.id == "1" and first.price == 1500.5 and first.tags == ("VIP",)
    assert first.fields == {"Форма собственности": "Госсектор"} and first.field_ids == {"7": "1"}
    assert first.utm == {"utm_source": "ya"}
    assert second.id == "5" and second.utm == {"utm_medium": "cpc"}


def test_a_broken_json_line_is_an_error_naming_the_line(tmp_path):
    path = write(tmp_path, '{"created_at": "2026-12-02T12:00"}\n{"created_at": \n', "leads.jsonl")
    with pytest.raises(LeadFileError, match=r"leads\.jsonl:2: not valid JSON"):
        read(path)


def test_a_json_line_that_is_not_an_object_is_refused(tmp_path):
    with pytest.raises(LeadFileError, match=r":1: each line must be a JSON object"):
        read(write(tmp_path, '["2026-12-02T12:00"]\n', "leads.ndjson"))


def test_a_file_out_of_time_order_is_sorted_stably_with_a_warning(tmp_path):
    path = write(tmp_path, "id,created_at\na,2026-12-02T12:00\nb,2026-12-02T11:00\nc,2026-12-02T11:00\n")
    warnings: list[str] = []
    assert [lead.id for lead in read(path, warnings)] == ["b", "c", "a"]
    assert warnings == [f"{path}:3: rows are not in time order; loading the whole file to sort it"]


def test_the_first_pass_counts_rows_and_finds_no_disorder_in_a_sorted_file(tmp_path):
    path = write(tmp_path, "created_at\n2026-12-02T11:00\n\n2026-12-02T11:00\n2026-12-02T12:00\n")
    assert LeadFile(path, POLICY).scan() == (3, None)


def test_the_example_csv_and_json_lines_files_hold_the_same_leads():
    csv_leads = read(ROOT / "examples" / "leads.csv")
    json_leads = read(ROOT / "examples" / "leads.jsonl")
    assert len(csv_leads) == 300
    assert csv_leads == json_leads
