"""Posts in a DynamoDB table (BLOG_POSTS_TABLE), declared in serverless.yml.

Pages come newest first from the GSI `by_created` (hash `kind`, always "post"; range
`created_at`), never from a Scan; edits and deletes are conditional writes on
`author_iss` and `author_sub`. Items written before `author_iss`, `body_html` and
`excerpt` existed get them on their first read (no key or index changes).

Drafts have kind "draft", so the `by_created` query for kind "post" never returns
them, and carry `draft_of` (their author's member id), the hash key of the sparse GSI
`drafts` (range `created_at`): a member's drafts are one Query, and published posts,
which have no `draft_of`, are not in that index at all.

Author and tag pages come from the sparse GSI `listings` (hash `listed_in`, range
`created_at`). A published post carries `listed_in` "author#<member id>", so an
author's page is one Query. Each tag of a published post is an item of its own, id
"tag#<tag>#<post id>" with `listed_in` "tag#<tag>", the post's `created_at`,
`post_id` and `author_id` and nothing else: a tag's page is one Query (filtered on
`author_id` for one author's posts with the tag) and one BatchGetItem of the
posts. Drafts have neither. A save that changes what is listed writes the post and
its tag items in one transaction (TransactWriteItems), conditional on the post
being as it was read, so the listings never disagree with the posts.

Members are items of the same table: id "member#<member id>", kind "member" and no
`created_at`, so the sparse `by_created` index never holds them. A page's names are
one BatchGetItem.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from boto3.dynamodb.conditions import Attr
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from flask import Flask

from .. import backends
from . import DRAFT
from . import PUBLISHED
from . import Author
from . import Cursor
from . import Member
from . import Post
from . import PostChanged
from . import PostsUnavailable
from . import decode_cursor
from . import is_meaningful_edit
from . import is_post_id
from . import new_version
from . import next_cursor
from . import now_ms
from . import rendered_now
from . import slug_of

if TYPE_CHECKING:
    from ..markdown import Rendered

log = logging.getLogger(__name__)
INDEX = "by_created"
KIND = "post"
DRAFTS_INDEX = "drafts"  # hash draft_of (the author's member id), range created_at
LISTINGS = "listings"  # hash listed_in ("author#<id>" or "tag#<tag>"), range created_at
MEMBER = "member#"  # id prefix of member items (kind "member")
BATCH = 100  # keys per BatchGetItem, DynamoDB's limit
REFUSED = "ConditionalCheckFailedException"  # a condition on the author or id failed
CANCELLED = "TransactionCanceledException"  # a transaction's condition failed
ATTEMPTS = 3  # reads and conditional writes of a save racing other saves


def opener(app: Flask) -> Callable[[], DynamoDBStore]:
    """The app's one boto3 resource; a cheap store object per app context."""
    table = backends.dynamodb(app).Table(app.config["POSTS_TABLE"])
    return lambda: DynamoDBStore(table, app.config.get("COGNITO_ISSUER"))


def unavailable_as_503(expected: str | None = None) -> Any:
    """The posts table's failures as `PostsUnavailable` (`expected` codes re-raised)."""
    return backends.failures_as(PostsUnavailable, "posts table", expected)


class DynamoDBStore:
    """The `Store` protocol on one DynamoDB table (boto3 Table resource)."""

    def __init__(self, table: Any, issuer: str | None = None) -> None:
        """`issuer` is the author's issuer of items saved before issuers were kept."""
        self.table = table
        self.issuer = issuer

    def to_post(self, item: dict) -> Post:
        """An item as a `Post`; an old item gets what it lacks now."""
        unlisted = item.get("kind") == KIND and "listed_in" not in item
        item = {name: value for name, value in item.items()
                if name not in ("draft_of", "listed_in", "kind")}
        item.update(created_at=int(item["created_at"]),
                    updated_at=int(item["updated_at"]))
        post = rendered_now(item, self.issuer, self.keep)
        if unlisted:  # published before author pages: on its author's page from now
            try:  # unless it was made a draft since it was read
                self.keep(post.id, {"listed_in": "author#" + post.author_id},
                          published=True)
            except PostsUnavailable:
                pass
        return post

    def keep(self, id: str, values: dict[str, Any], published: bool = False) -> None:
        """Store what an old item lacked; never overwrite what a save wrote since
        (`published`: and only while the item is a published post)."""
        names = {f"#{n}": name for n, name in enumerate(values)}
        update = "SET " + ", ".join(f"#{n} = if_not_exists(#{n}, :{n})"
                                    for n in range(len(values)))
        condition = "attribute_exists(id)"  # not if deleted since
        written = {f":{n}": value for n, value in enumerate(values.values())}
        if published:
            condition += " AND #kind = :kind"
            names["#kind"], written[":kind"] = "kind", KIND
        try:
            with unavailable_as_503(expected=REFUSED):
                self.table.update_item(
                    Key={"id": id}, UpdateExpression=update,
                    ConditionExpression=condition, ExpressionAttributeNames=names,
                    ExpressionAttributeValues=written)
        except ClientError:
            pass

    def written_by(self, author: Author) -> dict[str, Any]:
        """The condition that `author` wrote the item: issuer and subject both."""
        condition = "author_sub = :sub AND author_iss = :iss"
        if self.issuer is not None and author.iss == self.issuer:
            condition = ("author_sub = :sub AND "
                         "(author_iss = :iss OR attribute_not_exists(author_iss))")
        return {"ConditionExpression": condition,
                "ExpressionAttributeValues": {":sub": author.sub, ":iss": author.iss}}

    def list_posts(self, cursor: str | None, limit: int, author_id: str | None = None,
                   tag: str | None = None) -> tuple[list[Post], str | None]:
        if tag is not None:  # an author's posts with a tag: the tag's, filtered
            return self.page(LISTINGS, "listed_in", "tag#" + tag, cursor, limit,
                             key_of=lambda post_id: f"tag#{tag}#{post_id}",
                             only=author_id and Attr("author_id").eq(author_id))
        if author_id is not None:
            return self.page(LISTINGS, "listed_in", "author#" + author_id, cursor,
                             limit)
        return self.page(INDEX, "kind", KIND, cursor, limit)

    def list_drafts(self, author: Author, cursor: str | None, limit: int,
                    tag: str | None = None) -> tuple[list[Post], str | None]:
        return self.page(DRAFTS_INDEX, "draft_of", author.id, cursor, limit,
                         only=tag and Attr("tags").contains(tag))

    def page(self, index: str, key: str, value: str, cursor: str | None, limit: int,
             key_of: Callable[[str], str] | None = None,
             only: Any = None) -> tuple[list[Post], str | None]:
        """Items of `index` with hash `key` = `value` (and the filter `only`), newest
        first, after (or going newer, before) `cursor`. With `key_of` (a post id's
        tag item id) the index holds tag items, and the posts are read in one
        batch."""
        at: Cursor | None = decode_cursor(cursor) if cursor is not None else None
        query: dict[str, Any] = {"IndexName": index,
                                 "ScanIndexForward": bool(at and at.newer),
                                 "KeyConditionExpression": Key(key).eq(value)}
        if only:
            query["FilterExpression"] = only
        if at is not None:
            query["ExclusiveStartKey"] = {
                key: value, "created_at": at.created_at,
                "id": key_of(at.id) if key_of else at.id}
        items: list[dict] = []
        with unavailable_as_503():
            while len(items) <= limit:  # one more than a page tells whether more remain
                page = self.table.query(Limit=limit + 1 - len(items), **query)
                items += page["Items"]
                if "LastEvaluatedKey" not in page:
                    break
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        more, items = len(items) > limit, items[:limit]
        if at is not None and at.newer:
            items.reverse()
        if key_of is not None:
            items = self.posts_of([item["post_id"] for item in items])
        posts = [self.to_post(item) for item in items]
        return posts, next_cursor(posts, at, more)

    def posts_of(self, ids: list[str]) -> list[dict]:
        """The published post items with these ids, in this order, in one batch
        read (a post deleted or unpublished since its tag item was read is left
        out)."""
        found = {item["id"]: item for item in self.batch_get(
            [{"id": id} for id in ids])}
        return [found[id] for id in ids
                if id in found and found[id].get("kind") == KIND]

    def bodies(self) -> Iterator[str]:
        """The Markdown of every post, drafts included: the `by_created` index holds
        both kinds (a query per kind, never a Scan)."""
        for kind in (KIND, "draft"):
            query: dict[str, Any] = {
                "IndexName": INDEX, "KeyConditionExpression": Key("kind").eq(kind),
                "ProjectionExpression": "body"}
            while True:
                with unavailable_as_503():
                    page = self.table.query(**query)
                yield from (item["body"] for item in page["Items"])
                if "LastEvaluatedKey" not in page:
                    break
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get_post(self, id: str) -> Post | None:
        item = self.get_item(id)
        return self.to_post(item) if item else None

    def get_item(self, id: str) -> dict | None:
        """The item of the post with this id, read consistently; None if none."""
        if not is_post_id(id):
            return None
        with unavailable_as_503():
            return self.table.get_item(Key={"id": id}, ConsistentRead=True).get("Item")

    def create_post(self, title: str, body: str, rendered: Rendered, author: Author,
                    author_name: str, status: str = PUBLISHED,
                    tags: Sequence[str] = ()) -> Post:
        now = now_ms()
        post = Post(str(uuid.uuid4()), title, body, author.sub, author_name, now, now,
                    author.iss, rendered.html, rendered.excerpt, author.id, status,
                    None if status == DRAFT else now, tuple(tags), None,
                    rendered.words, slug_of(title))
        item = {name: value for name, value in dataclasses.asdict(post).items()
                if value is not None}
        item.update(kind=KIND, tags=list(post.tags))
        if status == DRAFT:
            item.update(kind=DRAFT, draft_of=author.id)
        else:
            item["listed_in"] = "author#" + author.id
        put = {"Item": item, "ConditionExpression": "attribute_not_exists(id)"}
        # Not written (a transaction cancelled, say throttled): not saved, so say so.
        if not self.write(put, {"Put": put}, self.tag_writes(
                post.id, author.id, now, (), () if post.is_draft else tags)):
            raise PostsUnavailable()
        return post

    def update_post(self, id: str, title: str, body: str, rendered: Rendered,
                    author: Author, status: str | None = None,
                    version: int | None = None,
                    tags: Sequence[str] | None = None) -> Post | None:
        for _ in range(ATTEMPTS):  # another save between the read and the write: again
            item = self.get_item(id)
            before = self.to_post(item) if item else None
            if before is None or before.author != author:
                return None
            if version is not None and before.updated_at != version:
                raise PostChanged(before)
            # After the version read, even in the same millisecond (or on a host whose
            # clock is behind): the condition on `updated_at` then sees every save.
            saved = self.try_update(before, title, body, rendered, author, status,
                                    tags, new_version(before.updated_at))
            if saved is not None:
                return saved
        raise PostsUnavailable()

    def try_update(self, before: Post, title: str, body: str, rendered: Rendered,
                   author: Author, status: str | None, tags: Sequence[str] | None,
                   now: int) -> Post | None:
        """Write the update over `before`, if the post is still `before`; None if it
        changed since (the caller reads it again)."""
        tags = before.tags if tags is None else tuple(tags)
        draft = status == DRAFT or (status is None and before.is_draft)
        condition = self.written_by(author)
        values = {**condition["ExpressionAttributeValues"], ":title": title,
                  ":body": body, ":html": rendered.html, ":excerpt": rendered.excerpt,
                  ":words": rendered.words, ":slug": slug_of(title),
                  ":tags": list(tags), ":now": now, ":loaded": before.updated_at}
        update = ("SET title = :title, body = :body, body_html = :html,"
                  " excerpt = :excerpt, words = :words, slug = :slug, tags = :tags,"
                  " updated_at = :now, author_iss = :iss")
        if is_meaningful_edit(before, title, body, tags, status, now):
            update += ", edited_at = :now"
        if draft:
            update += (", #kind = :draft, draft_of = :author, #status = :draft"
                       " REMOVE published_at, listed_in")
            values.update({":draft": DRAFT, ":author": author.id})
        else:  # published_at: kept if it was published already
            update += (", #kind = :post, #status = :published, listed_in = :listed,"
                       " published_at = if_not_exists(published_at, :published_at)"
                       " REMOVE draft_of")
            values.update({":post": KIND, ":published": PUBLISHED,
                           ":listed": "author#" + author.id,
                           ":published_at": before.published_at or now})
        change = {
            "Key": {"id": before.id}, "UpdateExpression": update,
            "ConditionExpression":
                f"({condition['ConditionExpression']}) AND updated_at = :loaded",
            "ExpressionAttributeValues": values,
            "ExpressionAttributeNames": {"#status": "status", "#kind": "kind"}}
        listed_before = () if before.is_draft else before.tags
        tag_writes = self.tag_writes(before.id, author.id, before.created_at,
                                     listed_before,
                                     () if draft else tags)
        if not self.write(change, {"Update": change}, tag_writes):
            return None
        return dataclasses.replace(
            before, title=title, body=body, body_html=rendered.html,
            excerpt=rendered.excerpt, words=rendered.words, slug=values[":slug"],
            tags=tags, updated_at=now, author_iss=author.iss,
            status=DRAFT if draft else PUBLISHED,
            published_at=None if draft else before.published_at or now,
            edited_at=now if "edited_at" in update else before.edited_at)

    def tag_writes(self, post_id: str, author_id: str, created_at: int,
                   before: Sequence[str], after: Sequence[str]) -> list[dict]:
        """The transaction items that make a post's tag items `after` from `before`."""
        name = self.table.name
        puts = [{"Put": {"TableName": name, "Item": {
            "id": f"tag#{tag}#{post_id}", "listed_in": "tag#" + tag,
            "created_at": created_at, "post_id": post_id, "author_id": author_id}}}
            for tag in after if tag not in before]
        deletes = [{"Delete": {"TableName": name,
                               "Key": {"id": f"tag#{tag}#{post_id}"}}}
                   for tag in before if tag not in after]
        return puts + deletes

    def write(self, alone: dict, in_transaction: dict, tag_writes: list[dict]) -> bool:
        """One conditional write of the post (`alone`: put_item or update_item
        arguments), or with tag item writes one transaction (the post's as
        `in_transaction`). False if the post's condition failed."""
        try:
            if not tag_writes:
                with unavailable_as_503(expected=REFUSED):
                    if "Item" in alone:
                        self.table.put_item(**alone)
                    else:
                        self.table.update_item(**alone)
                return True
            [(kind, post)] = in_transaction.items()
            with unavailable_as_503(expected=CANCELLED):
                self.table.meta.client.transact_write_items(TransactItems=[
                    {kind: {"TableName": self.table.name, **post}}, *tag_writes])
            return True
        except ClientError:
            return False

    def delete_post(self, id: str, author: Author | None) -> bool:
        for _ in range(ATTEMPTS):  # another save between the read and the write: again
            item = self.get_item(id)
            if item is None:
                return False
            post = self.to_post(item)
            if author is not None and post.author != author:
                return False
            condition = self.written_by(author) if author is not None else {
                "ConditionExpression": "attribute_exists(id)",
                "ExpressionAttributeValues": {}}
            delete = {"Key": {"id": id}, "ConditionExpression":
                      f"({condition['ConditionExpression']}) AND updated_at = :loaded",
                      "ExpressionAttributeValues": {
                          **condition["ExpressionAttributeValues"],
                          ":loaded": post.updated_at}}
            listed = () if post.is_draft else post.tags
            tag_writes = self.tag_writes(id, post.author_id, post.created_at, listed,
                                         ())
            try:
                if not tag_writes:
                    with unavailable_as_503(expected=REFUSED):
                        self.table.delete_item(**delete)
                    return True
                with unavailable_as_503(expected=CANCELLED):
                    self.table.meta.client.transact_write_items(TransactItems=[
                        {"Delete": {"TableName": self.table.name, **delete}},
                        *tag_writes])
                return True
            except ClientError:
                continue
        raise PostsUnavailable()

    def batch_get(self, keys: list[dict], **options: Any) -> list[dict]:
        """The items with these keys, read consistently in batches of BATCH."""
        items: list[dict] = []
        client = self.table.meta.client  # the resource's: it (de)serialises values
        for start in range(0, len(keys), BATCH):
            request = {self.table.name: {
                "Keys": keys[start:start + BATCH], "ConsistentRead": True, **options}}
            for _ in range(3):  # keys left unprocessed under load: ask again, twice
                with unavailable_as_503():
                    answer = client.batch_get_item(RequestItems=request)
                items += answer["Responses"].get(self.table.name, [])
                request = answer.get("UnprocessedKeys")
                if not request:
                    break
        return items

    def save_member(self, author: Author, name: str, login: bool) -> None:
        update = ("SET #kind = :kind, #iss = :iss, #sub = :sub, #name = :name,"
                  " #first = if_not_exists(#first, :now)")
        names = {"#kind": "kind", "#iss": "iss", "#sub": "sub", "#name": "name",
                 "#first": "first_seen"}
        if login:
            update += ", #last = :now"
            names["#last"] = "last_login"
        with unavailable_as_503():
            self.table.update_item(
                Key={"id": MEMBER + author.id}, UpdateExpression=update,
                ExpressionAttributeNames=names, ExpressionAttributeValues={
                    ":kind": "member", ":iss": author.iss, ":sub": author.sub,
                    ":name": name, ":now": now_ms()})

    def get_member(self, id: str) -> Member | None:
        with unavailable_as_503():
            item = self.table.get_item(Key={"id": MEMBER + id},
                                       ConsistentRead=True).get("Item")
        if item is None:
            return None
        last_login = item.get("last_login")
        return Member(id, item["iss"], item["sub"], item["name"],
                      int(item["first_seen"]),
                      None if last_login is None else int(last_login))

    def member_names(self, ids: Iterable[str]) -> dict[str, str]:
        items = self.batch_get(
            [{"id": MEMBER + id} for id in sorted(set(ids))],
            ProjectionExpression="#id, #name",
            ExpressionAttributeNames={"#id": "id", "#name": "name"})
        return {item["id"].removeprefix(MEMBER): item["name"] for item in items}

    def init_db(self) -> None:
        """Create the table and its index if missing (on AWS serverless.yml does)."""
        client = self.table.meta.client
        try:
            with unavailable_as_503(expected="ResourceInUseException"):
                client.create_table(TableName=self.table.name, **TABLE_SHAPE)
        except ClientError:
            pass  # it exists already
        client.get_waiter("table_exists").wait(TableName=self.table.name)


TABLE_SHAPE: dict[str, Any] = {
    "BillingMode": "PAY_PER_REQUEST",
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"},
                             {"AttributeName": "kind", "AttributeType": "S"},
                             {"AttributeName": "created_at", "AttributeType": "N"},
                             {"AttributeName": "draft_of", "AttributeType": "S"},
                             {"AttributeName": "listed_in", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "GlobalSecondaryIndexes": [{
        "IndexName": INDEX, "Projection": {"ProjectionType": "ALL"},
        "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"},
                      {"AttributeName": "created_at", "KeyType": "RANGE"}]}, {
        "IndexName": DRAFTS_INDEX, "Projection": {"ProjectionType": "ALL"},
        "KeySchema": [{"AttributeName": "draft_of", "KeyType": "HASH"},
                      {"AttributeName": "created_at", "KeyType": "RANGE"}]}, {
        "IndexName": LISTINGS, "Projection": {"ProjectionType": "ALL"},
        "KeySchema": [{"AttributeName": "listed_in", "KeyType": "HASH"},
                      {"AttributeName": "created_at", "KeyType": "RANGE"}]}],
}
