"""``printgate admin price ...``: price lists."""

from __future__ import annotations

import argparse

from google.protobuf.message import Message
from printgate.v1 import admin_pb2, common_pb2

from admin_cli.render import enum_values, record_of, table_of
from admin_cli.verbs import Verb, VerbTable

PRICE_COLUMNS = ("printer_group", "function", "color", "paper_size", "duplex", "price_cents_per_page")


def _price(args: argparse.Namespace) -> Message:
    return admin_pb2.Price(
        printer_group=args.printer_group,
        function=enum_values(common_pb2.Function)[args.function],
        color=enum_values(common_pb2.ColorMode)[args.color],
        paper_size=args.paper_size,
        duplex=args.duplex,
        price_cents_per_page=args.price_cents_per_page,
    )


def add_verbs(verbs: VerbTable) -> None:
    verbs.group("price", "price lists")
    price = verbs.add(
        "set",
        "set the price per page of one kind of page",
        Verb("SetPrice", _price, record_of(PRICE_COLUMNS)),
    )
    price.add_argument("--printer-group", default="default")
    price.add_argument("--function", required=True, choices=sorted(enum_values(common_pb2.Function)))
    price.add_argument("--color", required=True, choices=sorted(enum_values(common_pb2.ColorMode)))
    price.add_argument("--paper-size", default="*", help="e.g. A4; '*' for any size without its own price")
    price.add_argument("--duplex", action="store_true")
    price.add_argument("--price-cents-per-page", type=int, required=True)
    prices = Verb(
        "ListPrices",
        lambda a: admin_pb2.ListPricesRequest(printer_group=a.printer_group),
        table_of("prices", PRICE_COLUMNS),
    )
    verbs.add("list", "list prices", prices).add_argument(
        "--printer-group", default="", help="only this group"
    )
