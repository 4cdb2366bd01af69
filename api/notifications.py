"""Routes for the merchant's notifications: the list, the unread count, marking read, and
whether high and critical ones also come as a DM to the merchant's own npub."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, StrictBool

from .. import compat
from ..crud import notifications as crud
from ..models import Body
from ..services import notifications as service
from ..services.catalogue_errors import NotFound
from .auth import ReadMerchant, RuntimeDep, WriteMerchant
from .common import READ, WRITE, DomainErrorRoute

router = APIRouter(tags=["notifications"], route_class=DomainErrorRoute)


class NotificationObject(BaseModel):
    type: str = Field(description="order, job, relay, wallet, payment or outbox")
    id: str | None


class Notification(BaseModel):
    """Something that needs the merchant."""

    id: str
    merchant_id: str
    type: str = Field(
        description="outbox_failed, wallet_unreachable, relay_down, refund_needed, job_failed"
        " or payment_unmatched"
    )
    priority: str = Field(description="low, normal, high or critical")
    title: str
    body: str
    object: NotificationObject | None = Field(description="what it is about")
    object_type: str | None
    object_id: str | None
    created_at: int
    read_at: int | None
    read: bool

    @classmethod
    def of(cls, row: crud.NotificationRow) -> Notification:
        return compat.validate(cls, service.document(row))


class UnreadCount(BaseModel):
    unread: int


class MarkedRead(BaseModel):
    marked: int
    unread: int


class NotificationSettings(BaseModel):
    dm_urgent: bool = Field(
        description="high and critical notifications also as a NIP-17 DM to your own npub"
    )


class NotificationSettingsUpdate(Body):
    dm_urgent: StrictBool


@router.get("/notifications", responses=READ)
async def api_notifications(
    merchant: ReadMerchant,
    runtime: RuntimeDep,
    unread: Annotated[bool | None, Query(description="true: unread only; false: read only")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**6)] = 0,
) -> list[Notification]:
    """The merchant's notifications, newest first."""
    rows = await crud.list_notifications(runtime.db, merchant.id, unread, limit, offset)
    return [Notification.of(row) for row in rows]


@router.get("/notifications/unread", responses=READ)
async def api_notifications_unread(merchant: ReadMerchant, runtime: RuntimeDep) -> UnreadCount:
    """How many notifications are unread (the bell's number)."""
    return UnreadCount(unread=await service.unread_count(runtime.db, merchant.id))


@router.get("/notifications/settings", responses=READ)
async def api_notification_settings(
    merchant: ReadMerchant, runtime: RuntimeDep
) -> NotificationSettings:
    """Whether high and critical notifications also come as a DM to the merchant's npub."""
    return NotificationSettings(dm_urgent=await crud.dm_urgent(runtime.db, merchant.id))


@router.put("/notifications/settings", responses=WRITE)
async def api_notification_settings_update(
    body: NotificationSettingsUpdate, merchant: WriteMerchant, runtime: RuntimeDep
) -> NotificationSettings:
    """Turn the DM copy of high and critical notifications on or off."""
    await service.set_dm_urgent(runtime.db, merchant.id, body.dm_urgent)
    return NotificationSettings(dm_urgent=body.dm_urgent)


@router.put("/notifications/read", responses=WRITE)
async def api_notifications_read_all(merchant: WriteMerchant, runtime: RuntimeDep) -> MarkedRead:
    """Mark every notification read."""
    marked = await service.mark_all_read(runtime.db, runtime.bus, merchant.id)
    return MarkedRead(marked=marked, unread=0)


@router.put("/notifications/{notification_id}/read", responses=WRITE)
async def api_notification_read(
    notification_id: str, merchant: WriteMerchant, runtime: RuntimeDep
) -> Notification:
    """Mark one notification read."""
    await service.mark_read(runtime.db, runtime.bus, merchant.id, notification_id)
    row = await crud.get_notification(runtime.db, merchant.id, notification_id)
    if row is None:
        raise NotFound("notification not found")
    return Notification.of(row)
