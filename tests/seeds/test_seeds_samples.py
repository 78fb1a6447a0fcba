"""The five real seed documents round-trip field by field."""

from pathlib import Path

import pytest

import seeds
from seeds import FIELDS, Post, read_file

SAMPLES = Path(seeds.__file__).parent / "samples"
NAMES = {
    0: "000_d88866b715cabc30.txt",
    1: "001_f5d76b64dc71a99a.txt",
    2: "002_9e41a7032fcd7300.txt",
    3: "003_282ed83ab9c5fbdd.txt",
    4: "004_507608ca571f272c.txt",
}

CHECKLIST = [
    "capture the current behavior",
    "create a safe backup",
    "test the smallest change",
    "watch logs after release",
    "write the final note",
]
NOTES = [
    "sanitized array meta is expected to render as a list in the frontend box",
    "view count is synthetic and only used for testing meta volume",
    "content is generated for import/load testing and should be reviewed before indexing",
]
PHP_CODE = (
    "final class health_check {\n"
    "    public function handle(): array {\n"
    "        return ['ok' => true, 'checked_at' => time()];\n"
    "    }\n"
    "}"
)


def load(number: int) -> Post:
    return read_file(SAMPLES / NAMES[number])


def types(post: Post) -> list[str]:
    return [block["type"] for block in post.body]


def blocks(post: Post, kind: str) -> list[dict]:
    return [block for block in post.body if block["type"] == kind]


@pytest.mark.parametrize("number", sorted(NAMES))
def test_every_seed_parses_without_warnings_and_with_every_field(number):
    post = load(number)
    assert post.warnings == []
    assert post.listed_similar == []
    required = {key for key, field in FIELDS.items() if field.required}
    assert required <= set(post.meta)
    assert post.id == post.meta["reference"] == post.reference
    assert len(post.sha256) == 64
    # Types of every meta field.
    meta = post.meta
    for key in ("topic", "summary", "ai_brief", "code_language", "difficulty", "reference", "hash"):
        assert isinstance(meta[key], str) and meta[key]
    assert isinstance(meta["reading_time"], int)
    assert isinstance(meta["view_count"], int)
    for key in ("stack", "tools", "checklist", "notes"):
        assert all(isinstance(item, str) for item in meta[key])
    assert set(meta["ai_outline"]) == {"context", "problem", "stack", "recommended_action"}
    assert set(meta["score"]) == {"quality", "freshness", "depth", "clarity"}
    assert all(isinstance(value, int) for value in meta["score"].values())
    assert set(meta["revision"]) == {"status", "version", "last_reviewed"}
    assert isinstance(meta["revision"]["version"], str)
    assert isinstance(meta["revision"]["last_reviewed"], str)
    assert set(meta["flags"]) == {
        "ai_generated_style",
        "has_images",
        "image_heavy",
        "needs_human_review",
    }
    assert all(value in (0, 1) and type(value) is int for value in meta["flags"].values())
    assert [set(entity) for entity in meta["entities"]] == [{"name", "type"}] * 3
    assert isinstance(meta["payload"]["seed"], int)
    assert isinstance(meta["payload"]["paragraphs"], int)
    assert isinstance(meta["payload"]["source_id"], str)
    if number != 2:  # seed 002 has its own checklist
        assert meta["checklist"] == CHECKLIST
    assert [b for b in post.body if b["type"] == "list"][0]["items"] == meta["checklist"]
    assert meta["notes"] == NOTES
    # The dict of ARCHITECTURE.md, nothing more.
    assert set(post.to_dict()) == {"title", "body", "meta", "listed_similar", "warnings"}


def test_seed_000_php_background_jobs():
    post = load(0)
    assert post.title == (
        "production checklist for handling background jobs in php: maintenance guide"
    )
    assert types(post) == [
        "paragraph",
        "heading",
        "paragraph",
        "paragraph",
        "paragraph",
        "paragraph",
        "code",
        "heading",
        "paragraph",
        "paragraph",
        "heading",
        "list",
        "heading",
        "paragraph",
    ]
    assert [b["text"] for b in blocks(post, "heading")] == [
        "production checks",
        "the practical approach",
        "implementation checklist",
        "final notes",
    ]
    assert blocks(post, "code") == [{"type": "code", "text": PHP_CODE, "language": "php"}]
    assert blocks(post, "list") == [{"type": "list", "items": CHECKLIST}]
    assert post.body[5]["text"].startswith("monitoring should answer simple questions quickly:")
    meta = post.meta
    assert meta["topic"] == "handling background jobs / php"
    assert meta["ai_outline"] == {
        "context": "on a single vps",
        "problem": "handling background jobs",
        "stack": "php",
        "recommended_action": "measure first, change carefully, document the result",
    }
    assert meta["stack"] == ["php", "backend", "php"]
    assert meta["tools"] == ["composer", "php-fpm", "xdebug", "phpunit", "git", "logs"]
    assert meta["code_language"] == "php"
    assert meta["difficulty"] == "advanced"
    assert meta["reading_time"] == 11
    assert meta["view_count"] == 53567
    assert meta["score"] == {"quality": 73, "freshness": 82, "depth": 82, "clarity": 82}
    assert meta["revision"] == {
        "status": "reviewed",
        "version": "1.5.6",
        "last_reviewed": "2020-05-03",
    }
    assert meta["reference"] == "anp-ref-019995-4029"
    assert meta["hash"] == "6c27aea2d9dad6db535dec4c"
    assert meta["flags"] == {
        "ai_generated_style": 1,
        "has_images": 0,
        "image_heavy": 0,
        "needs_human_review": 0,
    }
    assert meta["entities"] == [
        {"name": "php", "type": "stack"},
        {"name": "backend", "type": "area"},
        {"name": "handling background jobs", "type": "problem"},
    ]
    assert "image_sources" not in meta
    assert meta["payload"] == {
        "source_id": "alphanode-019995",
        "generator": "anp content synthesizer",
        "paragraphs": 7,
        "scenario": "on a single vps",
        "seed": 19995,
    }
    assert meta["summary"].startswith("this ai-style technical summary explains")
    assert meta["ai_brief"].startswith("the article is written like a careful ai generated")
    assert post.id == "anp-ref-019995-4029"


def test_seed_001_images_and_duplicate_stack():
    post = load(1)
    assert post.title == (
        "building a safer workflow for handling background jobs with php: step by step"
    )
    assert post.meta["stack"] == ["php", "backend", "php"]
    assert types(post) == [
        "paragraph",
        "image",
        "heading",
        "paragraph",
        "paragraph",
        "paragraph",
        "paragraph",
        "code",
        "heading",
        "paragraph",
        "paragraph",
        "heading",
        "list",
        "image",
        "heading",
        "paragraph",
    ]
    assert blocks(post, "image") == [
        {
            "type": "image",
            "caption": "handling background jobs with php visual reference 1",
            "source": "loremflickr.com",
            "url": "https://loremflickr.com/1200/630/code,developer?lock=3275",
        },
        {
            "type": "image",
            "caption": "handling background jobs with php visual reference 2",
            "source": "dummyimage.com",
            "url": "https://dummyimage.com/1200x630/111827/ffffff.png"
            "&text=handling+background+jobs+with+php",
        },
    ]
    assert blocks(post, "code") == [{"type": "code", "text": PHP_CODE, "language": "php"}]
    assert post.meta["image_sources"][1] == {
        "source": "dummyimage.com",
        "url": "https://dummyimage.com/1200x630/111827/ffffff.png"
        "&text=handling+background+jobs+with+php",
        "caption": "handling background jobs with php visual reference 2",
    }
    assert post.meta["flags"]["needs_human_review"] == 1
    assert post.meta["difficulty"] == "beginner"
    assert post.meta["revision"] == {
        "status": "drafted",
        "version": "1.0.6",
        "last_reviewed": "2022-02-05",
    }
    assert post.meta["payload"]["seed"] == 3275
    assert post.id == "anp-ref-003275-2123"


def test_seed_002_artefact_line_five_images_and_shell_code():
    post = load(2)
    # The leading "| |" line is an artefact, not the title.
    assert post.title == (
        "production checklist for handling background jobs in linux server operations"
    )
    assert types(post) == [
        "paragraph",
        "image",
        "image",
        "heading",
        "paragraph",
        "paragraph",
        "paragraph",
        "paragraph",
        "heading",
        "paragraph",
        "paragraph",
        "code",
        "heading",
        "list",
        "image",
        "image",
        "image",
        "heading",
        "paragraph",
    ]
    caption = "handling background jobs with linux server operations visual reference {}"
    images = blocks(post, "image")
    assert [image["caption"] for image in images] == [caption.format(n) for n in range(1, 6)]
    assert [image["source"] for image in images] == [
        "unsplash",
        "unsplash",
        "loremflickr.com",
        "dummyimage.com",
        "placehold.co",
    ]
    assert [image["url"] for image in images] == [
        "https://images.unsplash.com/photo-1498050108023-c5249f4df085"
        "?auto=format&fit=crop&w=1200&q=80",
        "https://images.unsplash.com/photo-1515879218367-8466d910aaa4"
        "?auto=format&fit=crop&w=1200&q=80",
        "https://loremflickr.com/1200/630/code,developer?lock=359",
        "https://dummyimage.com/1200x630/111827/ffffff.png&text=handling+background+jobs+with+linux+se",
        "https://placehold.co/1200x630/png?text=handling+background+jobs+with+linux+server",
    ]
    assert blocks(post, "code") == [
        {
            "type": "code",
            "text": "systemctl status app.service\njournalctl -u app.service -n 100 --no-pager",
            "language": "bash",
        }
    ]
    assert blocks(post, "list")[0]["items"] == [
        "inspect cache headers",
        "test logged-in traffic",
        "purge only the affected route",
        "measure response time",
        "keep a rollback command ready",
    ]
    assert len(post.meta["image_sources"]) == 5
    assert post.meta["view_count"] == 446032
    assert post.meta["flags"] == {
        "ai_generated_style": 1,
        "has_images": 1,
        "image_heavy": 1,
        "needs_human_review": 0,
    }
    assert post.meta["stack"] == ["linux server operations", "devops", "bash"]
    assert post.meta["tools"] == ["systemd", "journalctl", "ss", "cron", "git", "logs"]
    assert post.meta["payload"]["seed"] == 357
    assert post.meta["payload"]["source_id"] == "alphanode-000357"


def test_seed_003_python_is_one_block_with_its_blank_line():
    post = load(3)
    assert post.title == (
        "field notes on handling background jobs for python services: step by step"
    )
    assert blocks(post, "code") == [
        {
            "type": "code",
            "text": "from fastapi import FastAPI\napp = FastAPI()\n\n"
            "@app.get('/health')\ndef health():\n    return {'ok': True}",
            "language": "python",
        }
    ]
    assert types(post).count("paragraph") == 9
    assert types(post).count("heading") == 4
    assert post.meta["score"] == {"quality": 89, "freshness": 87, "depth": 60, "clarity": 94}
    assert post.meta["revision"]["last_reviewed"] == "2017-04-23"
    assert post.meta["payload"]["paragraphs"] == 8


def test_seed_004_sql_is_one_code_block():
    post = load(4)
    assert post.title == (
        "building a safer workflow for handling background jobs with "
        "postgresql indexing: maintenance guide"
    )
    assert blocks(post, "code") == [
        {
            "type": "code",
            "text": "CREATE INDEX CONCURRENTLY idx_events_created_at\nON events(created_at DESC);",
            "language": "sql",
        }
    ]
    assert types(post) == [
        "paragraph",
        "heading",
        "paragraph",
        "paragraph",
        "paragraph",
        "paragraph",
        "code",
        "heading",
        "paragraph",
        "paragraph",
        "paragraph",
        "heading",
        "list",
        "heading",
        "paragraph",
    ]
    assert post.meta["tools"] == [
        "postgresql",
        "explain analyze",
        "vacuum",
        "indexes",
        "git",
        "logs",
    ]
    assert post.meta["revision"]["version"] == "1.3.0"
    assert post.meta["reading_time"] == 14
    assert post.id == "anp-ref-012395-2485"
