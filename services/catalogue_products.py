"""Products: validate against their stall, write, and announce each change on Nostr."""

from __future__ import annotations

from .. import compat
from ..catalogue_models import Product, ProductConfigIn, ProductCreate, ProductUpdate, Stall
from ..crud import products as products_crud
from ..crud.catalogue import Source, new_id
from ..crud.merchants import MerchantRow
from ..crud.products import ProductFields
from ..storage.database import Connection
from . import catalogue_publish as publish
from .catalogue import announce, check_path_id, deletion_targets, get_stall
from .catalogue_errors import InvalidRequest, NotFound
from .host import Host


async def get_product(src: Source, merchant: MerchantRow, product_id: str) -> Product:
    """The merchant's product, or NotFound (also when it is another merchant's)."""
    product = await products_crud.get_product(src, merchant.id, product_id)
    if product is None:
        raise NotFound("product not found")
    return product


async def _stall_for(conn: Connection, merchant: MerchantRow, stall_id: str) -> Stall:
    """The product's stall: the merchant's own, already accepted."""
    try:
        stall = await get_stall(conn, merchant, stall_id)
    except NotFound:
        raise InvalidRequest(f"stall {stall_id!r} does not exist") from None
    return stall


def _check_against_stall(stall: Stall, config: ProductConfigIn) -> None:
    """Currency is the stall's; extra shipping costs only for the stall's zones."""
    if config.currency is not None and config.currency != stall.currency:
        raise InvalidRequest(
            f"product currency {config.currency} differs from its stall's ({stall.currency})"
        )
    zone_ids = {zone.id for zone in stall.shipping_zones}
    for item in config.shipping:
        if item.id not in zone_ids:
            raise InvalidRequest(f"shipping zone {item.id!r} is not one of the stall's zones")
    if len({item.id for item in config.shipping}) != len(config.shipping):
        raise InvalidRequest("each shipping zone may appear once in config.shipping")


def _fields(body: ProductCreate) -> ProductFields:
    config = body.config
    return ProductFields(
        stall_id=body.stall_id,
        name=body.name,
        price=body.price,
        quantity=body.quantity,
        description=config.description or "",
        images=body.images,
        categories=list(dict.fromkeys(body.categories)),
        specs=config.specs,
        active=body.active,
        use_autoreply=config.use_autoreply,
        autoreply_message=config.autoreply_message,
        shipping=config.shipping,
        max_per_order=config.max_per_order,
    )


async def create_product(host: Host, merchant: MerchantRow, body: ProductCreate) -> Product:
    """`POST /product`: store it in an accepted stall and publish its 30018."""
    product_id = new_id()
    async with host.db.transaction() as conn:
        stall = await _stall_for(conn, merchant, body.stall_id)
        if stall.pending:
            raise InvalidRequest("accept the stall (PUT /stall/{id} with pending false) first")
        _check_against_stall(stall, body.config)
        await products_crud.insert_product(conn, merchant.id, product_id, _fields(body))
        signer = publish.signer_for(host.keystore, merchant)
        await publish.publish_product(conn, signer, product_id)
    announce(host, merchant.id, "product", product_id, "created")
    return await get_product(host.db, merchant, product_id)


def _merged(product: Product, body: ProductUpdate) -> ProductCreate:
    """The product as it will be: the stored one with the given fields replaced."""
    current = ProductCreate(
        stall_id=product.stall_id,
        name=product.name,
        price=product.price,
        quantity=product.quantity,
        images=product.images,
        categories=product.categories,
        active=product.active,
        config=ProductConfigIn(
            description=product.config.description,
            use_autoreply=product.config.use_autoreply,
            autoreply_message=product.config.autoreply_message,
            shipping=product.config.shipping,
            specs=product.config.specs,
            max_per_order=product.config.max_per_order,
            free=product.config.free,
        ),
    )
    given = compat.dump(body, exclude_unset=True, exclude={"id", "pending"})
    changes = {k: getattr(body, k) for k, v in given.items() if v is not None}
    config = body.config
    if config is not None and "max_per_order" not in compat.fields_set(config):
        # a nostrmarket-shaped config knows no limit: leaving it out keeps the one set
        kept = {"max_per_order": product.config.max_per_order}
        changes["config"] = compat.copy(config, kept)
    return compat.copy(current, changes)


async def update_product(
    host: Host, merchant: MerchantRow, product_id: str, body: ProductUpdate
) -> Product:
    """`PATCH /product/{id}`: change what is given and republish.

    `pending: false` accepts an imported product (its stall must be accepted);
    a product is never made pending again.
    """
    check_path_id(body.id, product_id)
    async with host.db.transaction() as conn:
        product = await get_product(conn, merchant, product_id)
        merged = _merged(product, body)
        stall = await _stall_for(conn, merchant, merged.stall_id)
        pending = product.pending and body.pending is not False
        if not pending and stall.pending:
            raise InvalidRequest("accept the product's stall (pending false) first")
        _check_against_stall(stall, merged.config)
        await products_crud.update_product(conn, merchant.id, product_id, _fields(merged), pending)
        signer = publish.signer_for(host.keystore, merchant)
        await publish.publish_product(conn, signer, product_id)
    announce(host, merchant.id, "product", product_id, "updated")
    return await get_product(host.db, merchant, product_id)


async def delete_product(host: Host, merchant: MerchantRow, product_id: str) -> None:
    """`DELETE /product/{id}`: delete it with a NIP-09 deletion (pending: only discard)."""
    async with host.db.transaction() as conn:
        product = await get_product(conn, merchant, product_id)
        await products_crud.delete_product(conn, merchant.id, product_id)
        signer = publish.signer_for(host.keystore, merchant)
        await publish.publish_deletion(
            conn,
            signer,
            deletion_targets([], [product]),
            f"product {product.name!r} deleted",
            product.event_created_at,
        )
    announce(host, merchant.id, "product", product_id, "deleted")
