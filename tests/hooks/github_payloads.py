"""GitHub ``issues`` webhook bodies shaped as GitHub sends them: every field the spec's
``webhook-issues-*`` schemas require (tests check them against ../shared/specs)."""

from __future__ import annotations

from typing import Any

API = "https://api.github.com"
WEB = "https://github.com"


def user(login: str = "octo-agent", uid: int = 583231) -> dict[str, Any]:
    base = f"{API}/users/{login}"
    return {
        "login": login,
        "id": uid,
        "node_id": "MDQ6VXNlcjU4MzIzMQ==",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "gravatar_id": "",
        "url": base,
        "html_url": f"{WEB}/{login}",
        "followers_url": f"{base}/followers",
        "following_url": f"{base}/following{{/other_user}}",
        "gists_url": f"{base}/gists{{/gist_id}}",
        "starred_url": f"{base}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{base}/subscriptions",
        "organizations_url": f"{base}/orgs",
        "repos_url": f"{base}/repos",
        "events_url": f"{base}/events{{/privacy}}",
        "received_events_url": f"{base}/received_events",
        "type": "User",
        "site_admin": False,
    }


def repository(full_name: str = "octo-org/shop") -> dict[str, Any]:
    owner, name = full_name.split("/")
    api = f"{API}/repos/{full_name}"
    urls = {
        f"{key}_url": f"{api}/{path}"
        for key, path in {
            "archive": "{archive_format}{/ref}",
            "assignees": "assignees{/user}",
            "blobs": "git/blobs{/sha}",
            "branches": "branches{/branch}",
            "collaborators": "collaborators{/collaborator}",
            "comments": "comments{/number}",
            "commits": "commits{/sha}",
            "compare": "compare/{base}...{head}",
            "contents": "contents/{+path}",
            "contributors": "contributors",
            "deployments": "deployments",
            "downloads": "downloads",
            "events": "events",
            "forks": "forks",
            "git_commits": "git/commits{/sha}",
            "git_refs": "git/refs{/sha}",
            "git_tags": "git/tags{/sha}",
            "hooks": "hooks",
            "issue_comment": "issues/comments{/number}",
            "issue_events": "issues/events{/number}",
            "issues": "issues{/number}",
            "keys": "keys{/key_id}",
            "labels": "labels{/name}",
            "languages": "languages",
            "merges": "merges",
            "milestones": "milestones{/number}",
            "notifications": "notifications{?since,all,participating}",
            "pulls": "pulls{/number}",
            "releases": "releases{/id}",
            "stargazers": "stargazers",
            "statuses": "statuses/{sha}",
            "subscribers": "subscribers",
            "subscription": "subscription",
            "tags": "tags",
            "teams": "teams",
            "trees": "git/trees{/sha}",
        }.items()
    }
    return {
        "id": 1296269,
        "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
        "name": name,
        "full_name": full_name,
        "private": True,
        "owner": user(owner, 9919),
        "html_url": f"{WEB}/{full_name}",
        "description": "The shop",
        "fork": False,
        "url": api,
        **urls,
        "clone_url": f"{WEB}/{full_name}.git",
        "git_url": f"git://github.com/{full_name}.git",
        "ssh_url": f"git@github.com:{full_name}.git",
        "svn_url": f"{WEB}/{full_name}",
        "mirror_url": None,
        "homepage": None,
        "language": "Python",
        "forks": 0,
        "forks_count": 0,
        "stargazers_count": 0,
        "watchers": 0,
        "watchers_count": 0,
        "size": 108,
        "default_branch": "main",
        "open_issues": 1,
        "open_issues_count": 1,
        "has_issues": True,
        "has_projects": True,
        "has_wiki": True,
        "has_pages": False,
        "has_downloads": True,
        "archived": False,
        "disabled": False,
        "license": None,
        "pushed_at": "2026-01-10T08:00:00Z",
        "created_at": "2025-01-10T08:00:00Z",
        "updated_at": "2026-01-10T08:00:00Z",
    }


def label(name: str, lid: int = 208045946) -> dict[str, Any]:
    return {
        "id": lid,
        "node_id": "MDU6TGFiZWwyMDgwNDU5NDY=",
        "url": f"{API}/repos/octo-org/shop/labels/{name}",
        "name": name,
        "color": "f29513",
        "default": False,
        "description": None,
    }


def issue(
    number: int,
    full_name: str,
    *,
    state: str,
    state_reason: str | None,
    labels: list[str],
    updated_at: str,
) -> dict[str, Any]:
    api = f"{API}/repos/{full_name}/issues/{number}"
    return {
        "url": api,
        "repository_url": f"{API}/repos/{full_name}",
        "labels_url": f"{api}/labels{{/name}}",
        "comments_url": f"{api}/comments",
        "events_url": f"{api}/events",
        "html_url": f"{WEB}/{full_name}/issues/{number}",
        "id": 1000000 + number,
        "node_id": "I_kwDOABCD1234",
        "number": number,
        "title": "[High] Invoice export fails (#1)",
        "user": user("bugline-bot", 4242),
        "labels": [label(n, 208045946 + i) for i, n in enumerate(labels)],
        "state": state,
        "locked": False,
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "comments": 2,
        "created_at": "2026-01-10T08:00:00Z",
        "updated_at": updated_at,
        "closed_at": updated_at if state == "closed" else None,
        "author_association": "NONE",
        "active_lock_reason": None,
        "body": "Report body <!-- bugline:abc -->",
        "reactions": {
            "url": f"{api}/reactions",
            "total_count": 0,
            "+1": 0,
            "-1": 0,
            "laugh": 0,
            "hooray": 0,
            "confused": 0,
            "heart": 0,
            "rocket": 0,
            "eyes": 0,
        },
        "state_reason": state_reason,
    }


def event(
    action: str,
    number: int,
    full_name: str = "octo-org/shop",
    *,
    state_reason: str | None = None,
    labels: list[str] | None = None,
    added: str | None = None,
    updated_at: str = "2026-01-12T09:30:00Z",
) -> dict[str, Any]:
    state = "closed" if action == "closed" else "open"
    body: dict[str, Any] = {
        "action": action,
        "issue": issue(
            number,
            full_name,
            state=state,
            state_reason=state_reason,
            labels=labels or [],
            updated_at=updated_at,
        ),
        "repository": repository(full_name),
        "sender": user(),
    }
    if added is not None:
        body["label"] = label(added)
    return body
