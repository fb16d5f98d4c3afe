"""The agreement's document: generated from the standard template when the TTO manager approves,
stored once (PostgreSQL refuses any change), signed by its SHA-256. The PDF itself is built by
document_files.py in a worker thread."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.services import AccountService
from marketplace.catalog.services import CatalogService
from marketplace.db import utcnow
from marketplace.errors import NotFound
from marketplace.licensing.document_files import AgreementText, ResultText, agreement_pdf
from marketplace.licensing.models import Agreement, AgreementResult, Document, Obligation
from marketplace.tenancy import Principal


class Documents:
    """Mixed into LicensingService (through Agreements)."""

    session: AsyncSession
    catalog: CatalogService
    accounts: AccountService

    async def current_document(self, agreement: Agreement) -> Document:
        document = await self.session.scalar(
            select(Document).where(Document.agreement_id == agreement.id).order_by(Document.version.desc()).limit(1)
        )
        if document is None:
            raise NotFound()
        return document

    async def write_document(self, agreement: Agreement, principal: Principal | None) -> Document:
        """A new version of the agreement's document (the first at approval; another each time it
        is approved again after a return to draft). Older versions stay as they were."""
        version = (
            await self.session.scalar(select(func.max(Document.version)).where(Document.agreement_id == agreement.id))
        ) or 0
        text = await self._agreement_text(agreement, version + 1)
        content = await asyncio.to_thread(agreement_pdf, text)
        document = Document(
            id=uuid.uuid4(),
            agreement_id=agreement.id,
            version=version + 1,
            language=agreement.language,
            content=content,
            sha256=hashlib.sha256(content).hexdigest(),
            created_by_user_id=principal.user_id if principal else None,
        )
        self.session.add(document)
        await self.session.flush()
        return document

    async def _agreement_text(self, agreement: Agreement, version: int) -> AgreementText:
        language = agreement.language
        parties = await self.accounts.public_organizations({agreement.institution_id, agreement.company_id})
        result_ids = list(
            await self.session.scalars(
                select(AgreementResult.listing_id)
                .where(AgreementResult.agreement_id == agreement.id)
                .order_by(AgreementResult.position)
            )
        )
        listings = await self.catalog.listing_refs(set(result_ids))
        assets = await self.catalog.ip_assets_of(set(result_ids))
        obligations = list(
            await self.session.scalars(
                select(Obligation).where(Obligation.agreement_id == agreement.id).order_by(Obligation.sequence)
            )
        )
        results = [
            ResultText(
                title=(listings[result_id].title_en if language == "en" else None) or listings[result_id].title_zh,
                patents=[asset.number for asset in assets.get(result_id, [])],
            )
            for result_id in result_ids
            if result_id in listings
        ]
        return AgreementText(
            agreement=agreement,
            licensor=parties[agreement.institution_id].display_name(language),
            licensee=parties[agreement.company_id].display_name(language),
            results=results,
            obligations=obligations,
            generated_at=utcnow(),
            version=version,
        )
