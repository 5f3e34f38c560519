"""``printgate admin card ...``: cards linked to users."""

from __future__ import annotations

from printgate.v1 import admin_pb2

from admin_cli.render import record_of, said, table_of
from admin_cli.verbs import Verb, VerbTable, user_ref

CARD_COLUMNS = ("number", "username", "label")


def add_verbs(verbs: VerbTable) -> None:
    verbs.group("card", "cards linked to users")
    card = Verb(
        "AddCard",
        lambda a: admin_pb2.Card(user=user_ref(a.username), number=a.number, label=a.label),
        record_of(("id", *CARD_COLUMNS)),
    )
    verbs.add("add", "link a card to a user", card, "username", "number").add_argument("--label", default="")
    remove = Verb("RemoveCard", lambda a: admin_pb2.CardRef(number=a.number), said("card {number} removed"))
    verbs.add("remove", "unlink a card", remove, "number")
    verbs.add(
        "list",
        "a user's cards",
        Verb("ListCards", lambda a: user_ref(a.username), table_of("cards", CARD_COLUMNS)),
        "username",
    )
