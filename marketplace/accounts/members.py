"""People of an organization: users by e-mail, members and their roles, and invitations (sent by
e-mail as a one-time link, accepted by setting a password).

A mixin of AccountService (`Members`, on top of `Organizations`: every step here first checks the
organization is the caller's to see or to manage). Other domains read people through it too:
names, contacts by role, who belongs where.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from authlib.common.security import generate_token
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from marketplace.accounts import sessions
from marketplace.accounts.models import ADMIN_ROLES, ROLES_BY_KIND, Invitation, Membership, Organization, OrgKind, Role, User
from marketplace.accounts.organizations import Organizations
from marketplace.accounts.passwords import check_password, digest, hash_password
from marketplace.accounts.schemas import EMAIL_PATTERN
from marketplace.audit import services as audit
from marketplace.config import Settings
from marketplace.db import add_unless_taken, utcnow
from marketplace.errors import Conflict, FieldError, Forbidden, NotFound, invalid
from marketplace.i18n import gettext
from marketplace.notifications.services import send_email
from marketplace.tenancy import Principal


def normalize_email(email: str) -> str:
    return email.strip().lower()


class Members(Organizations):
    async def user_by_email(self, email: str) -> User | None:
        stmt = select(User).where(func.lower(User.email) == normalize_email(email))
        return (await self.session.scalars(stmt)).first()

    async def list_members(self, principal: Principal, organization_id: uuid.UUID) -> list[Membership]:
        await self.get_organization(principal, organization_id)
        stmt = (
            select(Membership)
            .where(Membership.organization_id == organization_id)
            .options(selectinload(Membership.user))
            .join(User)
            .order_by(User.name)
        )
        return list((await self.session.scalars(stmt)).all())

    async def user_names(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        """Display names for the activity list (only ids the caller was already allowed to see)."""
        if not ids:
            return {}
        rows = await self.session.execute(select(User.id, User.name).where(User.id.in_(ids)))
        return dict(rows.all())  # not dict(rows): a Result has keys(), so dict() would treat it as a mapping

    async def active_users(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, User]:
        """Active users by id, for other domains that write to them (e-mail address, language)."""
        if not ids:
            return {}
        rows = await self.session.scalars(select(User).where(User.id.in_(ids), User.is_active))
        return {user.id: user for user in rows}

    async def member_contacts(self, organization_id: uuid.UUID, roles: frozenset[Role]) -> list[User]:
        """Active members of an organization in `roles`, for e-mails another domain sends them."""
        stmt = (
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organization_id == organization_id, Membership.role.in_(list(roles)), User.is_active)
            .order_by(User.email)
        )
        return list((await self.session.scalars(stmt)).all())

    async def member_ids(self, organization_id: uuid.UUID, user_ids: set[uuid.UUID]) -> set[uuid.UUID]:
        """Which of `user_ids` belong to the organization (for other domains naming people)."""
        stmt = select(Membership.user_id).where(Membership.organization_id == organization_id, Membership.user_id.in_(user_ids))
        return set((await self.session.scalars(stmt)).all())

    async def pending_invitations(self, principal: Principal, organization_id: uuid.UUID) -> list[tuple[Invitation, User]]:
        await self.get_organization(principal, organization_id)
        stmt = (
            select(Invitation, User)
            .join(User, User.id == Invitation.user_id)
            .where(
                Invitation.organization_id == organization_id,
                Invitation.accepted_at.is_(None),
                Invitation.expires_at > func.now(),
            )
            .order_by(Invitation.created_at.desc())
        )
        return [(inv, user) for inv, user in (await self.session.execute(stmt)).all()]

    # ----- invitations and roles ----------------------------------------------------------------

    async def _managed_organization(self, principal: Principal, organization_id: uuid.UUID) -> Organization:
        org = await self.get_organization(principal, organization_id)
        if not (principal.role == Role.platform_admin or (principal.is_org_admin and org.id == principal.organization_id)):
            raise Forbidden()
        return org

    async def invite(
        self,
        principal: Principal,
        organization_id: uuid.UUID,
        *,
        email: str,
        name: str,
        role: str,
        ttl: timedelta,
        ip: str | None = None,
    ) -> tuple[Invitation, User, str]:
        """Invite someone by e-mail. Returns the raw one-time token, to be sent and never stored."""
        org = await self._managed_organization(principal, organization_id)
        email = normalize_email(email)
        if not re.fullmatch(EMAIL_PATTERN, email):
            raise invalid("email", "Enter a valid e-mail address.")
        if role not in ROLES_BY_KIND[OrgKind(org.kind)]:
            raise invalid("role", "This role does not exist in this kind of organization.")
        user = await self.user_by_email(email)
        if user is not None:
            already = await self.session.scalar(
                select(Membership.id).where(Membership.user_id == user.id, Membership.organization_id == org.id)
            )
            if already:
                raise Conflict("Already a member.", FieldError("email", "This person is already a member."))
        else:
            user = await self._new_user(email, name)
        raw = generate_token(40)
        invitation = Invitation(
            organization_id=org.id,
            user_id=user.id,
            role=role,
            token_hash=digest(raw),
            invited_by_user_id=principal.user_id,
            expires_at=utcnow() + ttl,
        )
        self.session.add(invitation)
        await self.session.flush()
        await audit.record(
            self.session,
            "invitation_sent",
            actor_user_id=principal.user_id,
            organization_id=org.id,
            subject=invitation,
            ip=ip,
            email=email,
            role=role,
        )
        return invitation, user, raw

    async def _new_user(self, email: str, name: str) -> User:
        user = User(email=email, name=name.strip() or email.split("@")[0])
        if not await add_unless_taken(self.session, user, "uq_users_email_lower"):
            # Invited twice at once (a double click): the other request made the account.
            found = await self.user_by_email(email)
            assert found is not None, "the unique index refused the address: it exists"
            return found
        return user

    async def invite_and_send(
        self,
        principal: Principal,
        organization_id: uuid.UUID,
        settings: Settings,
        *,
        email: str,
        name: str,
        role: str,
        ip: str | None = None,
    ) -> tuple[Invitation, User, Organization]:
        """Invite and e-mail the link. Committed first: the invitation exists before its e-mail leaves."""
        invitation, user, raw = await self.invite(
            principal,
            organization_id,
            email=email,
            name=name,
            role=role,
            ttl=timedelta(hours=settings.invitation_ttl_hours),
            ip=ip,
        )
        org = await self.get_organization(principal, organization_id)
        await self.session.commit()
        await send_invitation(settings, user.email, org.name_zh, raw)
        return invitation, user, org

    async def open_invitation(self, raw_token: str) -> tuple[Invitation, User, Organization]:
        """The invitation a link points to, if it is unused and unexpired; otherwise 404."""
        row = (
            await self.session.execute(
                select(Invitation, User, Organization)
                .join(User, User.id == Invitation.user_id)
                .join(Organization, Organization.id == Invitation.organization_id)
                .where(
                    Invitation.token_hash == digest(raw_token),
                    Invitation.accepted_at.is_(None),
                    Invitation.expires_at > func.now(),
                )
                .with_for_update(of=Invitation)
            )
        ).first()
        if row is None:
            raise NotFound()
        return row[0], row[1], row[2]

    async def accept_invitation(self, raw_token: str, *, password: str | None, name: str | None = None) -> User:
        invitation, user, org = await self.open_invitation(raw_token)
        if user.password_hash is None:
            if password is None:
                raise invalid("password", "Required.")
            check_password(password)
            user.password_hash = hash_password(password)
        if name and name.strip():
            user.name = name.strip()
        invitation.accepted_at = utcnow()
        self.session.add(Membership(user_id=user.id, organization_id=org.id, org_kind=org.kind, role=invitation.role))
        await self.session.flush()
        await audit.record(self.session, "invitation_accepted", actor_user_id=user.id, organization_id=org.id, subject=invitation)
        return user

    async def _membership_in(self, principal: Principal, organization_id: uuid.UUID, membership_id: uuid.UUID) -> Membership:
        await self._managed_organization(principal, organization_id)
        membership = await self.session.scalar(
            select(Membership).where(Membership.id == membership_id, Membership.organization_id == organization_id)
        )
        if membership is None:
            raise NotFound()
        return membership

    async def _keep_one_admin(self, membership: Membership) -> None:
        if membership.role not in ADMIN_ROLES:
            return
        admins = (
            await self.session.execute(
                select(func.count())
                .select_from(Membership)
                .where(Membership.organization_id == membership.organization_id, Membership.role.in_(list(ADMIN_ROLES)))
            )
        ).scalar_one()
        if admins <= 1:
            raise Conflict(
                "An organization keeps at least one administrator.", FieldError("role", "This is the last administrator.")
            )

    async def change_role(
        self, principal: Principal, organization_id: uuid.UUID, membership_id: uuid.UUID, role: str
    ) -> Membership:
        membership = await self._membership_in(principal, organization_id, membership_id)
        if role not in ROLES_BY_KIND[OrgKind(membership.org_kind)]:
            raise invalid("role", "This role does not exist in this kind of organization.")
        if role == membership.role:
            return membership
        if role not in ADMIN_ROLES:
            await self._keep_one_admin(membership)
        before = membership.role
        membership.role = role
        await audit.record(
            self.session,
            "role_changed",
            actor_user_id=principal.user_id,
            organization_id=organization_id,
            subject=membership,
            user_id=membership.user_id,
            before=before,
            after=role,
        )
        return membership

    async def remove_member(self, principal: Principal, organization_id: uuid.UUID, membership_id: uuid.UUID) -> None:
        membership = await self._membership_in(principal, organization_id, membership_id)
        await self._keep_one_admin(membership)
        await audit.record(
            self.session,
            "member_removed",
            actor_user_id=principal.user_id,
            organization_id=organization_id,
            subject=membership,
            user_id=membership.user_id,
            role=membership.role,
        )
        await self.session.delete(membership)
        # Whoever was removed is no longer signed in for this organization anywhere.
        await sessions.end_sessions(self.session, user_id=membership.user_id, organization_id=organization_id)


async def send_invitation(settings: Settings, email: str, org_name: str, raw_token: str) -> None:
    link = f"{settings.base_url.rstrip('/')}/invitations/{raw_token}"
    subject = gettext("You are invited to %(org)s on the medical tech-transfer marketplace", org=org_name)
    body = gettext(
        "You have been invited to join %(org)s.\n\nSet your password and sign in here (the link works once and "
        "expires in %(hours)d hours):\n%(link)s\n",
        org=org_name,
        hours=settings.invitation_ttl_hours,
        link=link,
    )
    await send_email(settings, email, subject, body)
