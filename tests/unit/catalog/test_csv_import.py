"""The product file: every bad row reported with its line, column and reason."""

from __future__ import annotations

import pytest

from daihuo.catalog.csvimport import parse_products, parse_spec, percent_to_bps, yuan_to_fen

HEADER = "product,title,category,description,price_min,price_max,commission,max_per_user,sku,spec,price,stock\n"  # noqa: E501


def test_a_clean_file_groups_skus_into_products() -> None:
    text = HEADER + (
        "p1,纯棉短袖T恤,服饰/男装,夏季新款,39.00,99.00,15,,S,尺码=S,59.90,100\n"
        "p1,,,,,,,,M,尺码=M,59.90,80\n"
        "p2,滋润口红,美妆/口红,,10,50,12.5,2,RED,颜色=红,29.9,5\n"
    )
    parsed = parse_products(text)
    assert parsed.errors == []
    assert parsed.rows == 3
    tee, lipstick = parsed.products
    assert (
        tee.data.title == "纯棉短袖T恤"
        and tee.data.price_min == 3900
        and tee.data.price_max == 9900
    )
    assert [s.code for s in tee.data.skus] == ["S", "M"]
    assert tee.data.skus[1].spec == {"尺码": "M"} and tee.data.skus[1].stock == 80
    assert tee.lines == [2, 3]
    assert lipstick.data.commission_bps == 1250 and lipstick.data.max_per_user == 2
    assert lipstick.data.skus[0].price == 2990


def test_each_bad_row_names_its_line_and_column() -> None:
    text = HEADER + (
        "p1,T恤,服饰,,39.00,99.00,15,,S,,59.90,100\n"  # line 2: fine
        "p1,,,,,,,,M,,abc,80\n"  # line 3: bad price
        "p2,口红,美妆,,10,50,95,,RED,,20,5\n"  # line 4: commission over 90 %
        "p3,鞋,服饰,,10,50,10,,A,,60,5\n"  # line 5: SKU price outside the range
        "p4,帽子,服饰,,10,50,10,,A,颜色,20,-1\n"  # line 6: bad spec (reported first)
        "p5,袜子,服饰,,10.001,50,10,,A,,20,5\n"  # line 7: three decimals
        "p6,围巾,服饰,,10,50,10,,A,,20,\n"  # line 8: empty stock
    )
    parsed = parse_products(text)
    found = {(e.line, e.column) for e in parsed.errors}
    assert found == {
        (3, "price"),
        (4, "commission"),
        (5, "price"),
        (6, "spec"),
        (7, "price_min"),
        (8, "stock"),
    }
    assert [p.key for p in parsed.products] == ["p1"]
    assert [s.code for s in parsed.products[0].data.skus] == ["S"]
    by_line = {e.line: e for e in parsed.errors}
    assert "90" in by_line[4].reason
    assert str(by_line[3]).startswith("line 3, column price: ")


def test_a_product_error_marks_all_its_rows() -> None:
    text = HEADER + (
        "p1,,服饰,,39.00,99.00,15,,S,,59.90,100\n"  # empty title
        "p1,,,,,,,,M,,59.90,80\n"
        "p1,其它标题,,,,,,,L,,59.90,80\n"  # and a differing title
    )
    parsed = parse_products(text)
    assert parsed.products == []
    assert {(e.line, e.column) for e in parsed.errors} >= {
        (2, "title"),
        (4, "title"),
        (3, "product"),
    }


def test_multi_line_cells_keep_the_line_numbers_right() -> None:
    text = HEADER + (
        'p1,T恤,服饰,"第一行\n第二行",39.00,99.00,15,,S,,59.90,100\n'
        "p2,口红,美妆,,10,50,12,,RED,,zz,5\n"
    )
    parsed = parse_products(text)
    assert [(e.line, e.column) for e in parsed.errors] == [(4, "price")]
    assert parsed.products[0].data.description == "第一行\n第二行"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("title,price\n", "missing column"),
        (HEADER.strip() + ",colour\n", "unknown column"),
    ],
)
def test_a_bad_header_is_one_error_on_line_1(text: str, reason: str) -> None:
    parsed = parse_products(text)
    assert len(parsed.errors) == 1 and parsed.errors[0].line == 1
    assert reason in parsed.errors[0].reason


def test_a_short_row_is_reported() -> None:
    parsed = parse_products(HEADER + "p1,T恤\n")
    assert [(e.line, e.column) for e in parsed.errors] == [(2, "-")]


def test_money_percent_and_spec_conversions() -> None:
    assert yuan_to_fen("19.9") == 1990 and yuan_to_fen("0.01") == 1 and yuan_to_fen("7") == 700
    for bad in ["0", "0.00", "-1", "1e3", "1.234", "１２", " 1"]:
        with pytest.raises(ValueError):
            yuan_to_fen(bad)
    assert (
        percent_to_bps("0") == 0 and percent_to_bps("90") == 9000 and percent_to_bps("12.5") == 1250
    )
    for bad in ["90.01", "100", "-1", "abc"]:
        with pytest.raises(ValueError):
            percent_to_bps(bad)
    assert parse_spec("颜色=红; 尺码=M;") == {"颜色": "红", "尺码": "M"}
    with pytest.raises(ValueError):
        parse_spec("颜色")
