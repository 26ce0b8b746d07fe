"""Posts in a DynamoDB table (BLOG_POSTS_TABLE), declared in serverless.yml.

Pages come newest first from the GSI `by_created` (hash `kind`, always "post"; range
`created_at`), never from a Scan; edits and deletes are conditional writes on
`author_iss` and `author_sub`. Items written before `author_iss`, `body_html` and
`excerpt` existed get them on their first read (no key or index changes).

Drafts have kind "draft", so the `by_created` query for kind "post" never returns
them, and carry `draft_of` (their author's member id), the hash key of the sparse GSI
`drafts` (range `created_at`): a member's drafts are one Query, and published posts,
which have no `draft_of`, are not in that index at all.

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
from typing import TYPE_CHECKING
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from flask import Flask

from .. import backends
from . import DRAFT
from . import PUBLISHED
from . import Author
from . import Member
from . import Post
from . import PostChanged
from . import PostsUnavailable
from . import decode_cursor
from . import encode_cursor
from . import is_post_id
from . import new_version
from . import now_ms
from . import rendered_now

if TYPE_CHECKING:
    from ..markdown import Rendered

log = logging.getLogger(__name__)
INDEX = "by_created"
KIND = "post"
DRAFTS_INDEX = "drafts"  # hash draft_of (the author's member id), range created_at
MEMBER = "member#"  # id prefix of member items (kind "member")
BATCH = 100  # keys per BatchGetItem, DynamoDB's limit
REFUSED = "ConditionalCheckFailedException"  # a condition on the author or id failed


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
        """An item as a `Post`; an old item gets its HTML (and issuer) now."""
        item = {**item, "created_at": int(item["created_at"]),
                "updated_at": int(item["updated_at"])}
        item.pop("draft_of", None)
        return rendered_now(item, self.issuer, self.keep)

    def keep(self, id: str, rendered: Rendered, issuer: str | None) -> None:
        """Store what an old item lacked; never overwrite what a save wrote since."""
        values = {":html": rendered.html, ":excerpt": rendered.excerpt}
        update = ("SET body_html = if_not_exists(body_html, :html),"
                  " excerpt = if_not_exists(excerpt, :excerpt)")
        if issuer is not None:
            update += ", author_iss = if_not_exists(author_iss, :iss)"
            values[":iss"] = issuer
        try:
            with unavailable_as_503(expected=REFUSED):
                self.table.update_item(
                    Key={"id": id}, UpdateExpression=update,
                    ConditionExpression="attribute_exists(id)",  # not if deleted since
                    ExpressionAttributeValues=values)
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

    def list_posts(self, cursor: str | None,
                   limit: int) -> tuple[list[Post], str | None]:
        return self.page(INDEX, "kind", KIND, cursor, limit)

    def list_drafts(self, author: Author, cursor: str | None,
                    limit: int) -> tuple[list[Post], str | None]:
        return self.page(DRAFTS_INDEX, "draft_of", author.id, cursor, limit)

    def page(self, index: str, key: str, value: str, cursor: str | None,
             limit: int) -> tuple[list[Post], str | None]:
        """Items of `index` with hash `key` = `value`, newest first, after `cursor`."""
        query: dict[str, Any] = {"IndexName": index, "ScanIndexForward": False,
                                 "KeyConditionExpression": Key(key).eq(value)}
        if cursor is not None:
            created_at, post_id = decode_cursor(cursor)
            query["ExclusiveStartKey"] = {key: value, "created_at": created_at,
                                          "id": post_id}
        items: list[dict] = []
        with unavailable_as_503():
            while len(items) <= limit:  # one more than a page tells whether more remain
                page = self.table.query(Limit=limit + 1 - len(items), **query)
                items += page["Items"]
                if "LastEvaluatedKey" not in page:
                    break
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        posts = [self.to_post(item) for item in items[:limit]]
        return posts, encode_cursor(posts[-1]) if len(items) > limit else None

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
        if not is_post_id(id):
            return None
        with unavailable_as_503():
            item = self.table.get_item(Key={"id": id}, ConsistentRead=True).get("Item")
        return self.to_post(item) if item else None

    def create_post(self, title: str, body: str, rendered: Rendered, author: Author,
                    author_name: str, status: str = PUBLISHED) -> Post:
        now = now_ms()
        post = Post(str(uuid.uuid4()), title, body, author.sub, author_name, now, now,
                    author.iss, rendered.html, rendered.excerpt, author.id, status,
                    None if status == DRAFT else now)
        item = {**dataclasses.asdict(post), "kind": KIND}
        if status == DRAFT:
            item.update(kind=DRAFT, draft_of=author.id)
            del item["published_at"]
        with unavailable_as_503():
            self.table.put_item(Item=item,
                                ConditionExpression="attribute_not_exists(id)")
        return post

    def update_post(self, id: str, title: str, body: str, rendered: Rendered,
                    author: Author, status: str | None = None,
                    version: int | None = None) -> Post | None:
        if not is_post_id(id):
            return None
        condition = self.written_by(author)
        values = {**condition["ExpressionAttributeValues"], ":title": title,
                  ":body": body, ":html": rendered.html, ":excerpt": rendered.excerpt,
                  ":now": new_version(version)}
        update = ("SET title = :title, body = :body, body_html = :html,"
                  " excerpt = :excerpt, updated_at = :now, author_iss = :iss")
        if status == DRAFT:
            update += ", #kind = :draft, draft_of = :author, #status = :draft"
            update += " REMOVE published_at"
            values.update({":draft": DRAFT, ":author": author.id})
        elif status == PUBLISHED:  # published_at: kept if it was published already
            update += (", #kind = :post, #status = :published,"
                       " published_at = if_not_exists(published_at, :now)"
                       " REMOVE draft_of")
            values.update({":post": KIND, ":published": PUBLISHED})
        expression = condition["ConditionExpression"]
        if version is not None:
            expression = f"({expression}) AND updated_at = :version"
            values[":version"] = version
        try:
            with unavailable_as_503(expected=REFUSED):
                item = self.table.update_item(
                    Key={"id": id}, ReturnValues="ALL_NEW", UpdateExpression=update,
                    ConditionExpression=expression, ExpressionAttributeValues=values,
                    **({"ExpressionAttributeNames": {"#status": "status",
                                                     "#kind": "kind"}}
                       if status else {}))["Attributes"]
        except ClientError:  # missing, someone else's post, or changed since
            return self.refused(id, author, version)
        return self.to_post(item)

    def refused(self, id: str, author: Author, version: int | None) -> None:
        """After a refused update: `PostChanged` if only the version was wrong."""
        if version is not None:
            current = self.get_post(id)
            if current is not None and current.author == author:
                raise PostChanged(current)

    def delete_post(self, id: str, author: Author | None) -> bool:
        if not is_post_id(id):
            return False
        condition: dict[str, Any] = {"ConditionExpression": "attribute_exists(id)"}
        if author is not None:
            condition = self.written_by(author)
        try:
            with unavailable_as_503(expected=REFUSED):
                self.table.delete_item(Key={"id": id}, **condition)
        except ClientError:
            return False
        return True

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
        keys = [{"id": MEMBER + id} for id in sorted(set(ids))]
        names: dict[str, str] = {}
        client = self.table.meta.client  # the resource's: it (de)serialises values
        for start in range(0, len(keys), BATCH):
            request = {self.table.name: {
                "Keys": keys[start:start + BATCH], "ConsistentRead": True,
                "ProjectionExpression": "#id, #name",
                "ExpressionAttributeNames": {"#id": "id", "#name": "name"}}}
            for _ in range(3):  # keys left unprocessed under load: ask again, twice
                with unavailable_as_503():
                    answer = client.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self.table.name, []):
                    names[item["id"].removeprefix(MEMBER)] = item["name"]
                request = answer.get("UnprocessedKeys")
                if not request:
                    break
        return names

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
                             {"AttributeName": "draft_of", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "GlobalSecondaryIndexes": [{
        "IndexName": INDEX, "Projection": {"ProjectionType": "ALL"},
        "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"},
                      {"AttributeName": "created_at", "KeyType": "RANGE"}]}, {
        "IndexName": DRAFTS_INDEX, "Projection": {"ProjectionType": "ALL"},
        "KeySchema": [{"AttributeName": "draft_of", "KeyType": "HASH"},
                      {"AttributeName": "created_at", "KeyType": "RANGE"}]}],
}
