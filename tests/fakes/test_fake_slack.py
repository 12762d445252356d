"""The fake Slack Web API answers the real slack_sdk WebClient the way Slack does."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.web import SlackResponse

from bot.fakes.slack import FakeSlack


@pytest.fixture(scope="module")
def server() -> Iterator[FakeSlack]:
    started = FakeSlack()
    started.start()
    yield started
    started.stop()


@pytest.fixture
def fake(server: FakeSlack) -> FakeSlack:
    server.reset()
    return server


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.base_url + "/api/")


def error_of(call: Any, **kwargs: Any) -> SlackResponse:
    """Call a WebClient method that must fail and return Slack's response."""
    with pytest.raises(SlackApiError) as caught:
        call(**kwargs)
    return caught.value.response


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


# ---- auth --------------------------------------------------------------------------


def test_auth_test_identifies_the_bot(fake: FakeSlack, client: WebClient) -> None:
    identity = client.auth_test()
    assert identity["user_id"] == fake.bot_user_id
    assert identity["bot_id"] == fake.bot_id
    assert identity["team_id"] == "T0001"


def test_a_wrong_token_is_invalid_auth_and_no_token_is_not_authed(fake: FakeSlack) -> None:
    wrong = WebClient(token="xoxb-wrong", base_url=fake.api_url)
    assert error_of(wrong.auth_test)["error"] == "invalid_auth"
    anonymous = WebClient(base_url=fake.api_url)
    failure = error_of(anonymous.auth_test)
    assert failure.status_code == 200
    assert failure.data == {"ok": False, "error": "not_authed"}


def test_an_unknown_method_is_refused(client: WebClient) -> None:
    assert error_of(client.api_call, api_method="nope.never")["error"] == "unknown_method"


# ---- conversations -------------------------------------------------------------------


def test_create_makes_the_bot_a_member_and_refuses_a_taken_name(
    fake: FakeSlack, client: WebClient
) -> None:
    created = client.conversations_create(name="inc-1-db-down")["channel"]
    assert created["id"].startswith("C") and created["is_member"] is True
    assert fake.channel("inc-1-db-down")["members"] == [fake.bot_user_id]
    assert error_of(client.conversations_create, name="inc-1-db-down")["error"] == "name_taken"


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "invalid_name_required"),
        ("x" * 81, "invalid_name_maxlength"),
        ("Inc 1", "invalid_name_specials"),
        ("장애", "invalid_name_specials"),
        ("--_", "invalid_name_punctuation"),
    ],
)
def test_create_applies_slacks_name_rules(client: WebClient, name: str, error: str) -> None:
    assert error_of(client.conversations_create, name=name)["error"] == error


def test_create_accepts_an_80_character_name(client: WebClient) -> None:
    assert client.conversations_create(name="a" * 80)["channel"]["name"] == "a" * 80


def test_list_paginates_with_cursors_and_filters(fake: FakeSlack, client: WebClient) -> None:
    for n in range(5):
        fake.add_channel(f"c{n}")
    fake.archive_channel("c4")
    fake.add_channel("secret", is_private=True)
    fake.add_channel("others-secret", is_private=True, bot_member=False)
    pages = [
        [c["name"] for c in page["channels"]]
        for page in client.conversations_list(limit=2, exclude_archived=True)
    ]
    assert pages == [["c0", "c1"], ["c2", "c3"]]
    first = client.conversations_list(limit=2)
    assert first["response_metadata"]["next_cursor"]
    last = client.conversations_list(limit=10)
    assert last["response_metadata"]["next_cursor"] == ""
    assert [c["name"] for c in last["channels"]] == ["c0", "c1", "c2", "c3", "c4"]
    private = client.conversations_list(types="private_channel")["channels"]
    assert [c["name"] for c in private] == ["secret"]
    assert error_of(client.conversations_list, cursor="garbage!")["error"] == "invalid_cursor"


def test_info_and_join(fake: FakeSlack, client: WebClient) -> None:
    channel_id = fake.add_channel("incidents", bot_member=False)
    assert client.conversations_info(channel=channel_id)["channel"]["is_member"] is False
    assert client.conversations_join(channel=channel_id)["channel"]["is_member"] is True
    again = client.conversations_join(channel=channel_id)
    assert again["warning"] == "already_in_channel"
    assert error_of(client.conversations_info, channel="C404")["error"] == "channel_not_found"


def test_invite_follows_slacks_rules(fake: FakeSlack, client: WebClient) -> None:
    alice, bob = fake.add_user("alice"), fake.add_user("bob")
    outside = fake.add_channel("outside", bot_member=False)
    assert error_of(client.conversations_invite, channel=outside, users=alice)["error"] == (
        "not_in_channel"
    )
    channel_id = client.conversations_create(name="inc-2")["channel"]["id"]
    client.conversations_invite(channel=channel_id, users=[alice, bob])
    assert fake.channel(channel_id)["members"] == [fake.bot_user_id, alice, bob]

    def invite_error(users: str) -> str:
        return str(error_of(client.conversations_invite, channel=channel_id, users=users)["error"])

    assert invite_error(f"{alice},{bob}") == "already_in_channel"
    assert invite_error(fake.bot_user_id) == "cant_invite_self"
    assert invite_error("U404") == "user_not_found"
    carol = fake.add_user("carol")
    client.conversations_invite(channel=channel_id, users=f"{alice},{carol}")
    assert fake.channel(channel_id)["members"][-1] == carol
    assert error_of(client.conversations_invite, channel="C404", users=alice)["error"] == (
        "channel_not_found"
    )


def test_members_paginate(fake: FakeSlack, client: WebClient) -> None:
    users = [fake.add_user(f"user{n}") for n in range(3)]
    channel_id = fake.add_channel("big", members=users)
    first = client.conversations_members(channel=channel_id, limit=3)
    second = client.conversations_members(
        channel=channel_id, limit=3, cursor=first["response_metadata"]["next_cursor"]
    )
    assert first["members"] + second["members"] == [fake.bot_user_id, *users]
    assert second["response_metadata"]["next_cursor"] == ""


def test_set_topic_limits_length(fake: FakeSlack, client: WebClient) -> None:
    channel_id = fake.add_channel("inc-3")
    client.conversations_setTopic(channel=channel_id, topic="SEV-2 · investigating")
    assert fake.channel(channel_id)["topic"]["value"] == "SEV-2 · investigating"
    assert error_of(client.conversations_setTopic, channel=channel_id, topic="x" * 251)[
        "error"
    ] == ("too_long")


def test_open_returns_one_dm_per_user(fake: FakeSlack, client: WebClient) -> None:
    alice = fake.add_user("alice")
    opened = client.conversations_open(users=alice)
    assert opened["channel"]["id"].startswith("D")
    again = client.conversations_open(users=alice)
    assert again["channel"]["id"] == opened["channel"]["id"] and again["already_open"] is True
    client.chat_postMessage(channel=alice, text="hello")
    assert [m["text"] for m in fake.messages(opened["channel"]["id"])] == ["hello"]


# ---- chat ----------------------------------------------------------------------------------


def test_post_by_name_stores_the_message_with_increasing_ts(
    fake: FakeSlack, client: WebClient
) -> None:
    channel_id = fake.add_channel("incidents")
    first = client.chat_postMessage(channel="incidents", text="one", blocks=[section("one")])
    second = client.chat_postMessage(channel=channel_id, text="two")
    assert first["channel"] == channel_id
    assert first["message"]["bot_id"] == fake.bot_id
    assert float(second["ts"]) > float(first["ts"])
    assert len(first["ts"].split(".")[1]) == 6
    stored = fake.messages(channel_id)
    assert [m["text"] for m in stored] == ["one", "two"]
    assert stored[0]["blocks"] == [section("one")]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument:UserWarning")
def test_post_errors(fake: FakeSlack, client: WebClient) -> None:
    channel_id = fake.add_channel("inc")
    outside = fake.add_channel("outside", bot_member=False)
    archived = fake.add_channel("old")
    fake.archive_channel(archived)

    def post_error(**kwargs: Any) -> str:
        return str(error_of(client.chat_postMessage, **kwargs)["error"])

    assert post_error(channel="C404", text="x") == "channel_not_found"
    assert post_error(channel=outside, text="x") == "not_in_channel"
    assert post_error(channel=archived, text="x") == "is_archived"
    assert post_error(channel=channel_id) == "no_text"
    assert post_error(channel=channel_id, text="x" * 40_001) == "msg_too_long"
    assert post_error(channel=channel_id, text="x", thread_ts="0") == "invalid_thread_ts"
    assert fake.messages(channel_id) == []


@pytest.mark.parametrize(
    ("blocks", "message"),
    [
        (
            [section("x")] * 51,
            "[ERROR] no more than 50 items allowed [json-pointer:/blocks]",
        ),
        (
            [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
            "[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]",
        ),
        (
            [section("ok"), section("s" * 3001)],
            "[ERROR] must be less than 3001 characters [json-pointer:/blocks/1/text/text]",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "a",
                            "text": {"type": "plain_text", "text": "b" * 76},
                        }
                    ],
                }
            ],
            "[ERROR] must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
        ),
    ],
)
def test_blocks_over_slacks_limits_are_invalid_blocks(
    fake: FakeSlack, client: WebClient, blocks: list[dict[str, Any]], message: str
) -> None:
    channel_id = fake.add_channel("inc")
    failure = error_of(client.chat_postMessage, channel=channel_id, text="t", blocks=blocks)
    assert failure["error"] == "invalid_blocks"
    assert failure["response_metadata"]["messages"] == [message]


def test_exactly_fifty_blocks_are_accepted(fake: FakeSlack, client: WebClient) -> None:
    channel_id = fake.add_channel("inc")
    client.chat_postMessage(channel=channel_id, text="t", blocks=[section("x")] * 50)
    assert len(fake.messages(channel_id)[0]["blocks"]) == 50


def test_thread_replies_update_the_parent(fake: FakeSlack, client: WebClient) -> None:
    channel_id = fake.add_channel("incidents")
    parent = client.chat_postMessage(channel=channel_id, text="announcement")["ts"]
    reply = client.chat_postMessage(channel=channel_id, text="update", thread_ts=parent)
    assert reply["message"]["thread_ts"] == parent
    stored_parent = fake.messages(channel_id)[0]
    assert stored_parent["reply_count"] == 1 and stored_parent["latest_reply"] == reply["ts"]
    history = client.conversations_history(channel=channel_id)["messages"]
    assert [m["text"] for m in history] == ["announcement"]
    thread = client.conversations_replies(channel=channel_id, ts=parent)["messages"]
    assert [m["text"] for m in thread] == ["announcement", "update"]


def test_update_edits_only_the_bots_own_messages(fake: FakeSlack, client: WebClient) -> None:
    alice = fake.add_user("alice")
    channel_id = fake.add_channel("incidents", members=[alice])
    ts = client.chat_postMessage(channel=channel_id, text="SEV-3")["ts"]
    updated = client.chat_update(channel=channel_id, ts=ts, text="SEV-1", blocks=[section("SEV-1")])
    assert updated["ts"] == ts and updated["text"] == "SEV-1"
    assert fake.messages(channel_id)[0]["blocks"] == [section("SEV-1")]
    human = fake.add_message(channel_id, alice, "I'm on it")
    assert error_of(client.chat_update, channel=channel_id, ts=human, text="x")["error"] == (
        "cant_update_message"
    )
    assert error_of(client.chat_update, channel=channel_id, ts="1.000001", text="x")["error"] == (
        "message_not_found"
    )


def test_ephemeral_needs_the_user_in_the_channel(fake: FakeSlack, client: WebClient) -> None:
    alice, bob = fake.add_user("alice"), fake.add_user("bob")
    channel_id = fake.add_channel("inc", members=[alice])
    assert client.chat_postEphemeral(channel=channel_id, user=alice, text="psst")["message_ts"]
    assert [m["user"] for m in fake.ephemeral_messages(channel_id)] == [alice]
    assert error_of(client.chat_postEphemeral, channel=channel_id, user=bob, text="x")["error"] == (
        "user_not_in_channel"
    )


def test_permalink_points_into_the_archives(fake: FakeSlack, client: WebClient) -> None:
    channel_id = fake.add_channel("inc")
    ts = client.chat_postMessage(channel=channel_id, text="x")["ts"]
    link = client.chat_getPermalink(channel=channel_id, message_ts=ts)["permalink"]
    assert link == f"https://fake.slack.com/archives/{channel_id}/p{ts.replace('.', '')}"


def test_pins_and_reactions(fake: FakeSlack, client: WebClient) -> None:
    channel_id = fake.add_channel("inc")
    ts = client.chat_postMessage(channel=channel_id, text="kickoff")["ts"]
    client.pins_add(channel=channel_id, timestamp=ts)
    assert fake.pins(channel_id) == [ts]
    assert error_of(client.pins_add, channel=channel_id, timestamp=ts)["error"] == "already_pinned"
    assert error_of(client.pins_add, channel=channel_id, timestamp="1.000002")["error"] == (
        "message_not_found"
    )
    client.reactions_add(channel=channel_id, timestamp=ts, name="pushpin")
    assert fake.messages(channel_id)[0]["reactions"][0]["name"] == "pushpin"
    assert error_of(client.reactions_add, channel=channel_id, timestamp=ts, name="pushpin")[
        "error"
    ] == ("already_reacted")


# ---- users ---------------------------------------------------------------------------------


def test_users_info_and_lookup_by_email(fake: FakeSlack, client: WebClient) -> None:
    alice = fake.add_user("alice", email="alice@example.com", tz="Asia/Kolkata")
    user = client.users_info(user=alice)["user"]
    assert user["tz"] == "Asia/Kolkata" and user["tz_offset"] == 19800
    assert user["profile"]["email"] == "alice@example.com"
    assert user["profile"]["display_name"] == "alice" and user["real_name"] == "Alice"
    assert client.users_lookupByEmail(email="ALICE@example.com")["user"]["id"] == alice
    assert error_of(client.users_info, user="U404")["error"] == "user_not_found"
    assert error_of(client.users_lookupByEmail, email="x@y.z")["error"] == "users_not_found"


# ---- views ---------------------------------------------------------------------------------

TRIGGER = "1700000000123.4567.abcdef"


def modal(title: str = "Declare incident", blocks: list[dict[str, Any]] | None = None) -> dict:
    return {
        "type": "modal",
        "callback_id": "declare",
        "title": {"type": "plain_text", "text": title},
        "blocks": blocks if blocks is not None else [section("Fill in")],
    }


def test_views_open_stores_the_view(fake: FakeSlack, client: WebClient) -> None:
    view = client.views_open(trigger_id=TRIGGER, view=modal())["view"]
    assert view["id"].startswith("V") and view["callback_id"] == "declare"
    assert fake.views[view["id"]]["title"]["text"] == "Declare incident"
    assert error_of(client.views_open, trigger_id=TRIGGER, view=modal())["error"] == (
        "exchanged_trigger_id"
    )


def test_views_open_validates_trigger_and_view(fake: FakeSlack, client: WebClient) -> None:
    missing = error_of(client.api_call, api_method="views.open", json={"view": modal()})
    assert missing["error"] == "invalid_arguments"
    assert error_of(client.views_open, trigger_id="nope", view=modal())["error"] == (
        "invalid_trigger_id"
    )
    fake.expire_trigger("1.2.old")
    assert error_of(client.views_open, trigger_id="1.2.old", view=modal())["error"] == (
        "expired_trigger_id"
    )
    long_title = error_of(client.views_open, trigger_id="1.3.a", view=modal("t" * 25))
    assert long_title["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]
    too_many = error_of(
        client.views_open, trigger_id="1.4.a", view=modal(blocks=[section("x")] * 101)
    )
    assert too_many["error"] == "invalid_arguments"
    assert fake.views == {}


def test_views_update_push_and_publish(fake: FakeSlack, client: WebClient) -> None:
    alice = fake.add_user("alice")
    opened = client.views_open(trigger_id=TRIGGER, view=modal())["view"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Step 2"))
    assert updated["view"]["id"] == opened["id"]
    assert fake.views[opened["id"]]["title"]["text"] == "Step 2"
    assert error_of(client.views_update, view_id=opened["id"], hash="stale", view=modal())[
        "error"
    ] == ("hash_conflict")
    assert error_of(client.views_update, view_id="V404", view=modal())["error"] == "not_found"
    pushed = client.views_push(trigger_id="1.5.b", view=modal("Pushed"))["view"]
    assert pushed["id"] != opened["id"]
    home = {"type": "home", "blocks": [section("Active incidents")]}
    published = client.views_publish(user_id=alice, view=home)["view"]
    assert client.views_publish(user_id=alice, view=home)["view"]["id"] == published["id"]
    assert fake.home_view(alice) is not None
    assert error_of(client.views_publish, user_id="U404", view=home)["error"] == "user_not_found"


# ---- files ---------------------------------------------------------------------------------


def test_files_upload_v2_shares_the_file_end_to_end(fake: FakeSlack, client: WebClient) -> None:
    channel_id = fake.add_channel("inc-4")
    parent = client.chat_postMessage(channel=channel_id, text="timeline")["ts"]
    response = client.files_upload_v2(
        channel=channel_id,
        content="10:02 paged\n10:05 mitigated\n",
        filename="timeline.txt",
        title="Timeline",
        initial_comment="Here is the timeline",
        thread_ts=parent,
    )
    file_id = response["file"]["id"]
    assert file_id.startswith("F")
    assert fake.files[file_id]["content"] == b"10:02 paged\n10:05 mitigated\n"
    assert fake.files[file_id]["title"] == "Timeline"
    shared = fake.messages(channel_id)[-1]
    assert shared["text"] == "Here is the timeline" and shared["thread_ts"] == parent
    assert [f["id"] for f in shared["files"]] == [file_id]
    assert [c["filename"] for c in fake.calls_to("files.getUploadURLExternal")] == ["timeline.txt"]


def test_complete_upload_refuses_a_file_never_uploaded(fake: FakeSlack, client: WebClient) -> None:
    reserved = client.files_getUploadURLExternal(filename="a.txt", length=3)
    failure = error_of(client.files_completeUploadExternal, files=[{"id": reserved["file_id"]}])
    assert failure["error"] == "file_not_found"


# ---- recording, injection, concurrency -----------------------------------------------------------


def test_calls_to_decodes_form_and_json_bodies(fake: FakeSlack, client: WebClient) -> None:
    channel_id = fake.add_channel("inc")
    client.chat_postMessage(channel=channel_id, text="form", blocks=[section("f")])
    client.api_call("chat.postMessage", json={"channel": channel_id, "text": "json"})
    calls = fake.calls_to("chat.postMessage")
    assert [c["text"] for c in calls] == ["form", "json"]
    assert calls[0]["blocks"] == [section("f")]
    assert "token" not in calls[0]
    assert fake.method_counts()["chat.postMessage"] == 2


def test_rate_limit_is_retried_by_the_sdk_handler(fake: FakeSlack, client: WebClient) -> None:
    channel_id = fake.add_channel("inc")
    fake.rate_limit_method("chat.postMessage", retry_after=0)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    assert client.chat_postMessage(channel=channel_id, text="after retry")["ok"] is True
    assert fake.method_counts()["chat.postMessage"] == 2
    assert [m["text"] for m in fake.messages(channel_id)] == ["after retry"]


def test_rate_limit_answers_429_with_retry_after(fake: FakeSlack, client: WebClient) -> None:
    fake.rate_limit_method("conversations.create", retry_after=30)
    failure = error_of(client.conversations_create, name="inc-5")
    assert failure.status_code == 429
    assert failure.headers["Retry-After"] == "30"
    assert failure.data == {"ok": False, "error": "ratelimited"}
    assert client.conversations_create(name="inc-5")["ok"] is True


def test_fail_method_fails_the_next_calls_only(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_method("conversations.create", "name_taken", times=2)
    for _ in range(2):
        assert error_of(client.conversations_create, name="inc-6")["error"] == "name_taken"
    assert client.conversations_create(name="inc-6")["ok"] is True


def test_concurrent_posts_get_distinct_increasing_ts(fake: FakeSlack, client: WebClient) -> None:
    channel_id = fake.add_channel("busy")
    results: list[str] = []

    def post_many() -> None:
        for _ in range(10):
            results.append(client.chat_postMessage(channel=channel_id, text="x")["ts"])

    threads = [threading.Thread(target=post_many) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = [m["ts"] for m in fake.messages(channel_id)]
    assert len(set(results)) == 60 and sorted(results) == stored
    assert stored == sorted(stored, key=float)


def test_reset_forgets_everything(fake: FakeSlack, client: WebClient) -> None:
    bot = fake.bot_user_id
    fake.add_channel("inc")
    client.chat_postMessage(channel="inc", text="x")
    fake.fail_method("auth.test", "fatal_error")
    fake.reset()
    assert fake.channels() == [] and fake.method_counts() == {}
    assert fake.bot_user_id == bot
    assert client.auth_test()["ok"] is True


def test_forced_invite_skips_invalid_users(fake: FakeSlack, client: WebClient) -> None:
    alice = fake.add_user("alice")
    channel_id = client.conversations_create(name="inc-9")["channel"]["id"]
    assert error_of(client.conversations_invite, channel=channel_id, users=f"{alice},U404")[
        "error"
    ] == ("user_not_found")
    assert alice not in fake.channel(channel_id)["members"]
    response = client.conversations_invite(channel=channel_id, users=f"{alice},U404", force=True)
    assert alice in fake.channel(channel_id)["members"]
    assert response["errors"] == [{"user": "U404", "ok": False, "error": "user_not_found"}]
