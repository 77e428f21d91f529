"""The database: tables of the durable log and of what people decide, and how to connect.

Everything derived (carts, receipts, sessions) is rebuilt from ``messages``; the other tables
hold what cannot be rebuilt: staff decisions, API keys, entry tokens, money moved.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine

metadata = MetaData()

# BigInteger is not an alias of SQLite's rowid; the variant keeps SQLite's fast INTEGER key.
Seq = BigInteger().with_variant(Integer(), "sqlite")

messages = Table(
    "messages",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=False),
    Column("t", Float, nullable=False, index=True),
    Column("type", String(8), nullable=False),
    Column("source", String(200), nullable=False),
    Column("received_at", Float, nullable=False),
    Column("body", LargeBinary, nullable=False),  # the message as canonical JSON
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("source", String(200), nullable=False),
    Column("where", String(300), nullable=False),
    Column("error", Text, nullable=False),
    Column("raw", LargeBinary, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("account", String(200)),
    Column("name", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
)

entry_tokens = Table(
    "entry_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("account", String(200), nullable=False),
    Column("party_size", Integer, nullable=False),
    Column("used", Integer, nullable=False, default=0),
    Column("expires_at", Float, nullable=False),
)

ledger = Table(
    "ledger",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=True),
    Column("key", String(300), nullable=False, unique=True),  # idempotency key
    Column("kind", String(16), nullable=False),  # charge | refund | adjustment
    Column("session_id", String(300), nullable=False, index=True),
    Column("account", String(200), nullable=False),
    Column("amount", String(32), nullable=False),  # signed decimal string
    Column("currency", String(8), nullable=False),
    Column("at", Float, nullable=False),
)

resolutions = Table(
    "resolutions",
    metadata,
    Column("session_id", String(300), primary_key=True),
    Column("items", Text, nullable=False),  # JSON {sku: n}
    Column("staff", String(200), nullable=False),
    Column("at", Float, nullable=False),
)

id_decisions = Table(
    "id_decisions",
    metadata,
    Column("check_id", String(400), primary_key=True),
    Column("decision", String(16), nullable=False),  # confirmed | removed
    Column("staff", String(200), nullable=False),
    Column("at", Float, nullable=False),
)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """WAL lets readers go on during a write; FULL makes a commit survive a power cut."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str) -> Engine:
    """Connect to SQLite (WAL, synchronous FULL) or PostgreSQL and create missing tables.

    A plain ``postgresql://`` URL is taken to mean psycopg 3 (the driver we ship), not
    SQLAlchemy's default psycopg2.
    """
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            url = "postgresql+psycopg://" + url.removeprefix(plain)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    metadata.create_all(engine)
    return engine
