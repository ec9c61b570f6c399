"""Team mode: a workspace with several users who sign in, and the tokens `lumina serve` accepts.

Passwords are hashed with argon2id (argon2-cffi's `PasswordHasher`, RFC 9106's defaults); only the
hash reaches SQLite. A sign-in yields a short-lived access token (a JWT, HS256, whose key lives in
the keyring under `JWT_KEY_REF`, never in SQLite) and a refresh token (random, stored only as its
SHA-256). Each refresh token works once: using it returns a new pair in the same family; using a
used one again means it was copied, so the whole family is revoked (RFC 6819 5.2.2.3). `users
remove` marks the user removed (their drafts and emails keep their author) and revokes every
refresh token they hold; their access tokens stop working at once, because `authenticate` reads the
user row on every request.

argon2 and PyJWT are imported inside the functions: only `lumina serve`, `team` and `users` need them.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets as random_tokens
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from lumina_tui.secrets import get_secret, set_secret
from lumina_tui.services import validation
from lumina_tui.services.actors import Actor, create_workspace, ensure_preferences
from lumina_tui.services.errors import (
    AuthenticationError,
    ConflictError,
    InvalidStateError,
    NotFoundError,
    ValidationError,
)
from lumina_tui.services.jsonable import iso
from lumina_tui.store import Database, new_id, utcnow
from lumina_tui.store.db import rows_changed
from lumina_tui.store.models import RefreshToken, User, Workspace

JWT_KEY_REF = "api:jwt-signing-key"
JWT_ALGORITHM = "HS256"
ISSUER = "lumina"
AUDIENCE = "lumina-api"
ROLES = ("owner", "member")
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024  # argon2 hashes any length; this bounds the work a request can ask for
NAME_LIMIT = 200

# Said for every failed sign-in, whichever part was wrong (no user enumeration).
WRONG_CREDENTIALS = "the email address or password is wrong"


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"

    def as_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
        }


def as_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "workspace_id": user.workspace_id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "can_sign_in": user.password_hash is not None,
        "removed_at": iso(user.removed_at),
        "created_at": iso(user.created_at),
    }


# -- passwords -------------------------------------------------------------------------------------


# argon2id takes 64 MiB per hash by design: a burst of sign-ins on a server's 40 handler threads
# must not take 2.5 GB, so at most this many hashes run at once (the rest wait their turn).
MAX_CONCURRENT_HASHES = 4
_hashing = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)


def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()


def clean_password(password: str | None, field: str = "password") -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise ValidationError(f"{field}: at least {MIN_PASSWORD_CHARS} characters", field=field)
    if len(password) > MAX_PASSWORD_CHARS:
        raise ValidationError(f"{field}: at most {MAX_PASSWORD_CHARS} characters", field=field)
    if "\x00" in password:
        raise ValidationError(f"{field}: must not contain NUL characters", field=field)
    return password


def hash_password(password: str) -> str:
    password = clean_password(password)
    with _hashing:
        return str(_hasher().hash(password))


def _password_matches(stored_hash: str | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher()
    if stored_hash is None:
        # Spend the same time as a real check, so a missing user is not told apart by timing.
        stored_hash = _dummy_hash()
        with _hashing, contextlib.suppress(VerificationError, InvalidHashError):
            hasher.verify(stored_hash, password)
        return False
    try:
        with _hashing:
            return bool(hasher.verify(stored_hash, password))
    except (VerificationError, InvalidHashError):
        return False


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(hash_password(random_tokens.token_urlsafe(16)))
    return _DUMMY[0]


# -- the signing key -------------------------------------------------------------------------------


def signing_key() -> str:
    """The JWT key from the keyring, made (256 random bits) the first time."""
    key = get_secret(JWT_KEY_REF)
    if key is None:
        set_secret(JWT_KEY_REF, random_tokens.token_urlsafe(32))
        # Read back: if two processes raced, both use whichever value the keyring kept.
        key = get_secret(JWT_KEY_REF)
    if key is None:  # pragma: no cover - the keyring just accepted it
        raise AuthenticationError("the token signing key could not be stored")
    return key


# -- workspaces and users --------------------------------------------------------------------------


def _clean_role(role: str) -> str:
    role = (role or "").strip().lower()
    if role not in ROLES:
        raise ValidationError(f"role: choose one of {', '.join(ROLES)}", field="role")
    return role


def _clean_name(name: str | None, field: str) -> str:
    return validation.header_text((name or "").strip(), field, max_chars=NAME_LIMIT)


def init_team(
    db: Database, actor: Actor, *, name: str, owner_email: str, password: str, owner_name: str = ""
) -> User:
    """Make the acting workspace a team: name it, and give its first user an email and a password.

    The local user (the one the CLI and the composer act as) becomes the owner, so every draft and
    email made before keeps its author. Refused once the workspace already has a user who can sign in.
    """
    name = _clean_name(name, "name")
    if not name:
        raise ValidationError("name: the team's name must not be empty", field="name")
    email = validation.email_address(owner_email, "email")
    password_hash = hash_password(password)
    owner_name = _clean_name(owner_name, "owner_name")
    with db.write() as session:
        signed_up = session.execute(
            select(User.id).where(
                User.workspace_id == actor.workspace_id,
                col(User.password_hash).is_not(None),
            )
        ).first()
        if signed_up is not None:
            raise ConflictError(
                "this workspace is already a team; add people with `lumina users add`", field="name"
            )
        workspace = session.get(Workspace, actor.workspace_id)
        user = session.get(User, actor.user_id)
        if workspace is None or user is None:
            raise NotFoundError("the acting workspace or user no longer exists", field="workspace")
        clash = _by_email(session, actor.workspace_id, email)
        if clash is not None and clash.id != user.id:
            raise ValidationError(f"email: {email} is already a user of this workspace", field="email")
        workspace.name = name
        user.email = email
        user.name = owner_name or user.name
        user.password_hash = password_hash
        user.role = "owner"
        user.removed_at = None
        session.add(workspace)
        session.add(user)
        session.flush()
        return user


def new_team(db: Database, *, name: str, owner_email: str, password: str) -> tuple[Actor, User]:
    """Another team workspace on the same database, with its owner (isolation tests, hosting)."""
    name = _clean_name(name, "name")
    email = validation.email_address(owner_email, "email")
    password_hash = hash_password(password)
    with db.write() as session:
        actor = create_workspace(session, name, email)
        user = session.get(User, actor.user_id)
        assert user is not None
        user.password_hash = password_hash
        user.role = "owner"
        session.add(user)
        session.flush()
        return actor, user


def _by_email(session: Session, workspace_id: str, email: str) -> User | None:
    return session.execute(
        select(User).where(
            User.workspace_id == workspace_id,
            User.email == email,
        )
    ).scalar_one_or_none()


def _find(session: Session, actor: Actor, ref: str) -> User | None:
    ref = (ref or "").strip()
    if "@" in ref:
        return _by_email(session, actor.workspace_id, ref.lower())
    user = session.get(User, validation.uuid_text(ref, "user"))
    if user is None or user.workspace_id != actor.workspace_id:
        return None
    return user


def _require_owner(session: Session, actor: Actor) -> None:
    me = session.get(User, actor.user_id)
    if me is None or me.workspace_id != actor.workspace_id or me.removed_at is not None:
        raise AuthenticationError("the acting user no longer exists")
    if me.role != "owner" and me.password_hash is not None:
        raise InvalidStateError("only the team's owner can add or remove users", field="user")


def add_user(
    db: Database, actor: Actor, *, email: str, password: str, name: str = "", role: str = "member"
) -> User:
    """A new user of the actor's workspace (or a removed one back, with a new password)."""
    email = validation.email_address(email, "email")
    role = _clean_role(role)
    name = _clean_name(name, "name")
    password_hash = hash_password(password)
    with db.write() as session:
        _require_owner(session, actor)
        existing = _by_email(session, actor.workspace_id, email)
        if existing is not None and existing.removed_at is None:
            raise ValidationError(f"email: {email} is already a user of this workspace", field="email")
        if existing is not None:
            existing.removed_at = None
            existing.password_hash = password_hash
            existing.role = role
            existing.name = name or existing.name
            session.add(existing)
            session.flush()
            return existing
        user = User(
            id=new_id(),
            workspace_id=actor.workspace_id,
            email=email,
            name=name,
            role=role,
            password_hash=password_hash,
            created_at=utcnow(),
        )
        session.add(user)
        session.flush()
        ensure_preferences(session, Actor(workspace_id=actor.workspace_id, user_id=user.id))
        return user


def list_users(db: Database, actor: Actor, *, include_removed: bool = False) -> list[User]:
    conditions: list[Any] = [User.workspace_id == actor.workspace_id]
    if not include_removed:
        conditions.append(col(User.removed_at).is_(None))
    with db.read() as session:
        rows = session.execute(
            select(User).where(*conditions).order_by(col(User.created_at), col(User.email))
        )
        return list(rows.scalars().all())


def remove_user(db: Database, actor: Actor, ref: str) -> User:
    """Take a user out of the team: no more sign-ins, every refresh token revoked at once."""
    with db.write() as session:
        _require_owner(session, actor)
        user = _find(session, actor, ref)
        if user is None or user.removed_at is not None:
            raise NotFoundError(f"user {ref} not found", field="user")
        if user.id == actor.user_id:
            raise InvalidStateError("you cannot remove yourself", field="user")
        now = utcnow()
        user.removed_at = now
        user.password_hash = None
        session.add(user)
        _revoke(session, [RefreshToken.user_id == user.id], now)
        session.flush()
        return user


def _revoke(session: Session, conditions: list[Any], now: datetime) -> int:
    result = session.execute(
        update(RefreshToken)
        .where(*conditions, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    return int(rows_changed(result))


# The user a valid access token names, if still in its workspace (authenticate, every request).
_ACTIVE_MEMBER = (
    select(col(User.id))
    .where(
        col(User.id) == bindparam("user_id"),
        col(User.workspace_id) == bindparam("workspace_id"),
        col(User.removed_at).is_(None),
    )
    .limit(1)
)

# -- tokens ----------------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _access_token(user: User, key: str, lifetime: int, now: datetime) -> str:
    import jwt

    issued = now.replace(tzinfo=UTC)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": user.id,
        "wid": user.workspace_id,
        "iat": issued,
        "exp": issued + timedelta(seconds=lifetime),
        "jti": new_id(),
    }
    return str(jwt.encode(claims, key, algorithm=JWT_ALGORITHM))


def _issue(
    session: Session, user: User, *, key: str, access_seconds: int, refresh_days: int, family_id: str
) -> TokenPair:
    now = utcnow()
    refresh = random_tokens.token_urlsafe(32)
    session.add(
        RefreshToken(
            id=new_id(),
            workspace_id=user.workspace_id,
            user_id=user.id,
            family_id=family_id,
            token_hash=_token_hash(refresh),
            created_at=now,
            expires_at=now + timedelta(days=refresh_days),
        )
    )
    session.flush()
    return TokenPair(
        access_token=_access_token(user, key, access_seconds, now),
        refresh_token=refresh,
        expires_in=access_seconds,
    )


def sign_in(
    db: Database,
    *,
    email: str,
    password: str,
    workspace_id: str | None = None,
    key: str,
    access_seconds: int = 900,
    refresh_days: int = 30,
) -> TokenPair:
    """Check a password; a token pair for the user it belongs to. One message for every failure."""
    if not isinstance(email, str) or not isinstance(password, str) or len(password) > MAX_PASSWORD_CHARS:
        raise AuthenticationError(WRONG_CREDENTIALS)
    address = email.strip().lower()
    conditions: list[Any] = [User.email == address, col(User.removed_at).is_(None)]
    if workspace_id is not None:
        conditions.append(User.workspace_id == validation.uuid_text(workspace_id, "workspace_id"))
    with db.read() as session:
        candidates = list(session.execute(select(User).where(*conditions)).scalars().all())
    matching = [user for user in candidates if _password_matches(user.password_hash, password)]
    if not candidates:
        _password_matches(None, password)
    if len(matching) > 1:
        raise ValidationError(
            "workspace_id: this address signs in to several workspaces; name one", field="workspace_id"
        )
    if not matching:
        raise AuthenticationError(WRONG_CREDENTIALS)
    user = matching[0]
    with db.write() as session:
        return _issue(
            session,
            user,
            key=key,
            access_seconds=access_seconds,
            refresh_days=refresh_days,
            family_id=new_id(),
        )


def refresh(
    db: Database, refresh_token: str, *, key: str, access_seconds: int = 900, refresh_days: int = 30
) -> TokenPair:
    """A new pair for a refresh token, which is used up; a used one again revokes its family."""
    if not isinstance(refresh_token, str) or not refresh_token or len(refresh_token) > 200:
        raise AuthenticationError("the refresh token is not valid")
    digest = _token_hash(refresh_token)
    stolen = False
    with db.write() as session:
        row = session.execute(
            select(RefreshToken).where(RefreshToken.token_hash == digest)
        ).scalar_one_or_none()
        now = utcnow()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise AuthenticationError("the refresh token is not valid")
        if row.used_at is not None:
            # Someone kept a copy: neither of the two holders may go on (committed, then refused).
            _revoke(session, [RefreshToken.family_id == row.family_id], now)
            stolen = True
        else:
            claimed = session.execute(
                update(RefreshToken)
                .where(RefreshToken.id == row.id, col(RefreshToken.used_at).is_(None))
                .values(used_at=now)
            )
            user = session.get(User, row.user_id)
            if rows_changed(claimed) != 1 or user is None or user.removed_at is not None:
                raise AuthenticationError("the refresh token is not valid")
            return _issue(
                session,
                user,
                key=key,
                access_seconds=access_seconds,
                refresh_days=refresh_days,
                family_id=row.family_id,
            )
    assert stolen
    raise AuthenticationError("the refresh token was already used; sign in again")


def sign_out(db: Database, refresh_token: str) -> bool:
    """Revoke the refresh token's whole family; False when there was nothing to revoke."""
    digest = _token_hash(refresh_token or "")
    with db.write() as session:
        row = session.execute(
            select(RefreshToken).where(RefreshToken.token_hash == digest)
        ).scalar_one_or_none()
        if row is None:
            return False
        return _revoke(session, [RefreshToken.family_id == row.family_id], utcnow()) > 0


def authenticate(db: Database, token: str, *, key: str) -> Actor:
    """The Actor an access token speaks for; AuthenticationError for anything but a valid one.

    Only HS256 is accepted (so `alg: none` and RS/HS confusion are refused); `exp`, `iat`, `sub`,
    `wid`, the issuer and the audience are required; the user must still be in the workspace.
    """
    import jwt

    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[JWT_ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "wid", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationError("the access token has expired; refresh it") from None
    except jwt.PyJWTError:
        raise AuthenticationError("the access token is not valid") from None
    user_id, workspace_id = claims.get("sub"), claims.get("wid")
    if not isinstance(user_id, str) or not isinstance(workspace_id, str):
        raise AuthenticationError("the access token is not valid")
    # One indexed SELECT on a Core connection, on every request (no cache: a removed user's token
    # stops working at once, whichever process removed them); the ORM Session cost 1.7 ms here.
    with db.read_rows() as conn:
        member = conn.execute(
            _ACTIVE_MEMBER, {"user_id": user_id, "workspace_id": workspace_id}
        ).first()
    if member is None:
        raise AuthenticationError("the access token is not valid")
    return Actor(workspace_id=workspace_id, user_id=user_id)
