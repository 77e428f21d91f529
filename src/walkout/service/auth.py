"""API keys with roles, and shoppers' entry tokens: credentials stored only as hashes.

Keys and tokens are long random strings, so a plain SHA-256 is enough to keep a stolen database
from yielding usable keys (a slow password hash protects guessable secrets, not these).
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from walkout.service import db

Role = Literal["device", "shopper", "staff", "admin"]
ROLES: tuple[Role, ...] = ("device", "shopper", "staff", "admin")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a key's role, its account (shoppers only) and its name."""

    role: Role
    account: str | None
    name: str

    def may(self, *roles: Role) -> bool:
        """Admin may do everything; everyone else only what their role is for."""
        return self.role == "admin" or self.role in roles


class KeyStore:
    """API keys in the database, looked up through a small cache (keys are never changed)."""

    def __init__(self, engine: Engine) -> None:
        self.db = engine
        self._cache: dict[str, Principal] = {}
        self._lock = threading.Lock()

    def create(self, role: Role, name: str, account: str | None = None) -> str:
        """A new key, returned once; only its hash is kept."""
        if role == "shopper" and not account:
            raise ValueError("a shopper key needs an account")
        key = f"wk_{role[:2]}_{secrets.token_urlsafe(24)}"
        self._insert(key, role, name, account)
        return key

    def ensure_admin(self, key: str | None) -> str | None:
        """Make the bootstrap admin key work; generate one if none is given and none exists.

        Returns a newly generated key (to print once), else None.
        """
        if key is not None:
            with contextlib.suppress(IntegrityError):  # already there from an earlier start
                self._insert(key, "admin", "bootstrap admin", None)
            return None
        with self.db.connect() as conn:
            has_admin = conn.execute(
                select(db.api_keys.c.key_hash).where(db.api_keys.c.role == "admin").limit(1)
            ).first()
        if has_admin:
            return None
        return self.create("admin", "bootstrap admin")

    def lookup(self, key: str | None) -> Principal | None:
        if not key:
            return None
        h = digest(key)
        with self._lock:
            hit = self._cache.get(h)
        if hit is not None:
            return hit
        with self.db.connect() as conn:
            row = conn.execute(select(db.api_keys).where(db.api_keys.c.key_hash == h)).first()
        if row is None:
            return None
        principal = Principal(row.role, row.account, row.name)
        with self._lock:
            self._cache[h] = principal
        return principal

    def _insert(self, key: str, role: Role, name: str, account: str | None) -> None:
        row = {
            "key_hash": digest(key),
            "role": role,
            "account": account,
            "name": name,
            "created_at": time.time(),
        }
        with self.db.begin() as conn:
            conn.execute(insert(db.api_keys), [row])


class TokenError(ValueError):
    """An entry token that cannot admit anyone (unknown, expired or used up)."""


class EntryTokens:
    """One-party entry tokens: the app shows one as a QR code; each gate scan admits one person."""

    def __init__(self, engine: Engine, ttl_s: float) -> None:
        self.db = engine
        self.ttl_s = ttl_s

    def issue(self, account: str, party_size: int) -> tuple[str, float]:
        token = secrets.token_urlsafe(18)
        expires = time.time() + self.ttl_s
        row = {
            "token_hash": digest(token),
            "account": account,
            "party_size": party_size,
            "used": 0,
            "expires_at": expires,
        }
        with self.db.begin() as conn:
            conn.execute(insert(db.entry_tokens), [row])
        return token, expires

    def use(self, token: str) -> str:
        """Spend one admission of a token, atomically; returns its account."""
        t = db.entry_tokens.c
        h = digest(token)
        with self.db.begin() as conn:
            done = conn.execute(
                update(db.entry_tokens)
                .where(t.token_hash == h, t.used < t.party_size, t.expires_at > time.time())
                .values(used=t.used + 1)
            )
            if done.rowcount == 1:
                account = conn.execute(select(t.account).where(t.token_hash == h)).scalar_one()
                return str(account)
            row = conn.execute(select(db.entry_tokens).where(t.token_hash == h)).first()
        if row is None:
            raise TokenError("unknown entry token")
        if row.used >= row.party_size:
            raise TokenError(f"entry token already admitted its party of {row.party_size}")
        raise TokenError("entry token expired")


# --- FastAPI dependencies ----------------------------------------------------------------------


def principal_of(request: Request, key: str | None) -> Principal:
    """The caller of a request, else 401."""
    principal: Principal | None = request.app.state.store.keys.lookup(key)
    if principal is None:
        raise HTTPException(401, "a valid API key is needed in the X-API-Key header")
    return principal


def require(*roles: Role) -> Any:
    """A dependency admitting callers of these roles (and admin), else 401/403."""

    def dependency(
        request: Request, x_api_key: Annotated[str | None, Header()] = None
    ) -> Principal:
        principal = principal_of(request, x_api_key)
        if not principal.may(*roles):
            raise HTTPException(
                403, f"needs a {' or '.join(roles)} key; this is a {principal.role} key"
            )
        return principal

    return Depends(dependency)


def shopper_account(principal: Principal) -> str:
    """The account a shopper key acts for (403 for keys with no account)."""
    if principal.account is None:
        raise HTTPException(
            403, f"a shopper key is needed; this {principal.role} key has no account"
        )
    return principal.account
