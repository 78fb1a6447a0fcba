"""Synthetic corpus of alphanode seed documents, in the exact layout of `seeds/samples/`.

`synthesize(count, out_dir, seed=...)` writes `count` files `NNNNNN_<16 hex>.txt` flat into
`out_dir`; `render_document(index, rng_seed)` renders one of them on its own, so the work can be
split over processes. Output depends only on (seed, index): the first N documents of a run are the
same whatever the total count, and the same seed gives byte-identical files.

What a document is made of, and why:

* Titles come from (template, stack, problem, [scenario], suffix) combinations. Each index maps to
  its own combination through keyed bijections, so titles never repeat (up to `MAX_COUNT`); about a
  fifth of them name the scenario, the rest only do when the plain combinations run out.
* The body follows the samples: intro paragraph, optional images, two headed sections of template
  paragraphs (the "for this X case ..." and "the alphanode approach ..." suffixes in the same
  places), a code block in the stack's language, `implementation checklist` with bullets, images
  glued to the list, `final notes`.
* Meta fields in the samples' order; `paragraphs` in payload is the body paragraph count minus one
  (the samples' convention); flags agree with the images; about a third need human review.
* About 2% are planted near-copies: another post's body under a reworded title (sometimes with one
  extra image) and their own reference.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
from bisect import bisect_right
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import accumulate
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path

__all__ = ["MAX_COUNT", "render_document", "synthesize"]

# Reference numbers are six digits (`anp-ref-019995-4029`), one per post.
MAX_COUNT = 1_000_000

# Below this many documents a process pool costs more than it saves.
_PARALLEL_MIN = 3_000
_CHUNK = 1_000

BULLET = "  \u2022 "
SUB_BULLET = "    \u2022 "

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stack:
    name: str
    area: str
    language: str
    tools: tuple[str, ...]
    snippets: tuple[str, ...]


STACKS: tuple[Stack, ...] = (
    Stack(
        "php",
        "backend",
        "php",
        ("composer", "php-fpm", "xdebug", "phpunit", "opcache"),
        (
            "final class health_check {\n"
            "    public function handle(): array {\n"
            "        return ['ok' => true, 'checked_at' => time()];\n"
            "    }\n"
            "}",
            "$pdo = new PDO($dsn, $user, $password, [\n"
            "    PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,\n"
            "]);\n"
            "$stmt = $pdo->prepare('SELECT id, status FROM jobs WHERE status = ?');\n"
            "$stmt->execute(['queued']);",
            "function retry(callable $task, int $attempts = 3): mixed {\n"
            "    for ($i = 1; $i <= $attempts; $i++) {\n"
            "        try {\n"
            "            return $task();\n"
            "        } catch (RuntimeException $e) {\n"
            '            error_log("attempt {$i} failed: " . $e->getMessage());\n'
            "            usleep(200000 * $i);\n"
            "        }\n"
            "    }\n"
            "    throw new RuntimeException('task failed after retries');\n"
            "}",
        ),
    ),
    Stack(
        "python services",
        "backend",
        "python",
        ("fastapi", "pytest", "uvicorn", "ruff", "mypy"),
        (
            "from fastapi import FastAPI\n"
            "app = FastAPI()\n"
            "\n"
            "@app.get('/health')\n"
            "def health():\n"
            "    return {'ok': True}",
            "logger = logging.getLogger(__name__)\n"
            "\n"
            "\n"
            "def run_job(job_id: int, attempts: int = 3) -> bool:\n"
            "    for attempt in range(1, attempts + 1):\n"
            "        try:\n"
            "            process(job_id)\n"
            "            return True\n"
            "        except TimeoutError:\n"
            "            logger.warning('job %s attempt %s timed out', job_id, attempt)\n"
            "            time.sleep(2 ** attempt)\n"
            "    return False",
            "limiter = TokenBucket(rate=10, burst=20)\n"
            "\n"
            "@app.middleware('http')\n"
            "async def rate_limit(request, call_next):\n"
            "    if not limiter.allow(request.client.host):\n"
            "        return JSONResponse({'error': 'too many requests'}, status_code=429)\n"
            "    return await call_next(request)",
        ),
    ),
    Stack(
        "linux server operations",
        "devops",
        "bash",
        ("systemd", "journalctl", "ss", "cron", "rsync"),
        (
            "systemctl status app.service\njournalctl -u app.service -n 100 --no-pager",
            "sudo systemctl reload nginx\nss -tlnp | grep ':443'\ndf -h /var/log",
            "find /var/log/app -name '*.log' -mtime +14 -delete\n"
            "logrotate --debug /etc/logrotate.d/app",
            "*/15 * * * * /usr/local/bin/run-jobs --queue default >> /var/log/jobs.log 2>&1",
        ),
    ),
    Stack(
        "postgresql indexing",
        "database",
        "sql",
        ("postgresql", "explain analyze", "vacuum", "indexes", "pg_stat_statements"),
        (
            "CREATE INDEX CONCURRENTLY idx_events_created_at\nON events(created_at DESC);",
            "EXPLAIN (ANALYZE, BUFFERS)\n"
            "SELECT id, title FROM posts\n"
            "WHERE status = 'published'\n"
            "ORDER BY published_at DESC\n"
            "LIMIT 20;",
            "SELECT relname, n_dead_tup, last_autovacuum\n"
            "FROM pg_stat_user_tables\n"
            "ORDER BY n_dead_tup DESC\n"
            "LIMIT 10;",
        ),
    ),
    Stack(
        "kubernetes",
        "platform",
        "yaml",
        ("kubectl", "helm", "kustomize", "prometheus", "k9s"),
        (
            "apiVersion: apps/v1\n"
            "kind: Deployment\n"
            "metadata:\n"
            "  name: web\n"
            "spec:\n"
            "  replicas: 3\n"
            "  strategy:\n"
            "    rollingUpdate:\n"
            "      maxUnavailable: 0\n"
            "      maxSurge: 1",
            "readinessProbe:\n"
            "  httpGet:\n"
            "    path: /health\n"
            "    port: 8080\n"
            "  initialDelaySeconds: 5\n"
            "  periodSeconds: 10",
            "resources:\n"
            "  requests:\n"
            "    cpu: 250m\n"
            "    memory: 256Mi\n"
            "  limits:\n"
            "    memory: 512Mi",
        ),
    ),
    Stack(
        "go services",
        "backend",
        "go",
        ("go test", "pprof", "golangci-lint", "delve"),
        (
            "func healthHandler(w http.ResponseWriter, r *http.Request) {\n"
            '\tw.Header().Set("Content-Type", "application/json")\n'
            '\t_ = json.NewEncoder(w).Encode(map[string]bool{"ok": true})\n'
            "}",
            "ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)\n"
            "defer cancel()\n"
            "if err := srv.Shutdown(ctx); err != nil {\n"
            '\tlog.Printf("shutdown: %v", err)\n'
            "}",
            "var limiter = rate.NewLimiter(rate.Limit(10), 20)\n"
            "\n"
            "func limited(next http.Handler) http.Handler {\n"
            "\treturn http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {\n"
            "\t\tif !limiter.Allow() {\n"
            '\t\t\thttp.Error(w, "too many requests", http.StatusTooManyRequests)\n'
            "\t\t\treturn\n"
            "\t\t}\n"
            "\t\tnext.ServeHTTP(w, r)\n"
            "\t})\n"
            "}",
        ),
    ),
    Stack(
        "node.js",
        "backend",
        "javascript",
        ("npm", "pm2", "jest", "eslint", "node inspector"),
        (
            "const express = require('express');\n"
            "const app = express();\n"
            "\n"
            "app.get('/health', (req, res) => {\n"
            "  res.json({ ok: true, uptime: process.uptime() });\n"
            "});",
            "process.on('SIGTERM', async () => {\n"
            "  await server.close();\n"
            "  await queue.close();\n"
            "  process.exit(0);\n"
            "});",
            "const worker = new Worker('emails', async (job) => {\n"
            "  await sendEmail(job.data.to, job.data.template);\n"
            "}, { connection, concurrency: 5 });",
        ),
    ),
    Stack(
        "react",
        "frontend",
        "javascript",
        ("vite", "react testing library", "eslint", "storybook", "lighthouse"),
        (
            "export function StatusBadge({ status }) {\n"
            "  const label = status === 'ok' ? 'healthy' : 'degraded';\n"
            "  return <span className={`badge badge-${status}`}>{label}</span>;\n"
            "}",
            "useEffect(() => {\n"
            "  const controller = new AbortController();\n"
            "  fetch('/api/jobs', { signal: controller.signal })\n"
            "    .then((res) => res.json())\n"
            "    .then(setJobs);\n"
            "  return () => controller.abort();\n"
            "}, []);",
        ),
    ),
    Stack(
        "redis caching",
        "caching",
        "bash",
        ("redis-cli", "redis", "sentinel", "grafana"),
        (
            "redis-cli INFO memory | grep used_memory_human\n"
            "redis-cli --scan --pattern 'cache:post:*' | head -20",
            "redis-cli CONFIG SET maxmemory-policy allkeys-lru\nredis-cli CONFIG GET maxmemory",
            "redis-cli --latency-history -i 5\nredis-cli SLOWLOG GET 10",
        ),
    ),
    Stack(
        "nginx",
        "infrastructure",
        "nginx",
        ("nginx", "certbot", "curl", "logrotate", "goaccess"),
        (
            "location /static/ {\n"
            "    expires 30d;\n"
            '    add_header Cache-Control "public, immutable";\n'
            "    try_files $uri =404;\n"
            "}",
            "limit_req_zone $binary_remote_addr zone=api:10m rate=10r/s;\n"
            "\n"
            "server {\n"
            "    location /api/ {\n"
            "        limit_req zone=api burst=20 nodelay;\n"
            "        proxy_pass http://127.0.0.1:8080;\n"
            "    }\n"
            "}",
            "upstream app {\n"
            "    server 10.0.0.11:8080 max_fails=3 fail_timeout=30s;\n"
            "    server 10.0.0.12:8080 max_fails=3 fail_timeout=30s;\n"
            "}",
        ),
    ),
    Stack(
        "mysql",
        "database",
        "sql",
        ("mysql", "mysqldump", "pt-query-digest", "slow query log"),
        (
            "ALTER TABLE orders\n"
            "  ADD INDEX idx_orders_customer_created (customer_id, created_at),\n"
            "  ALGORITHM=INPLACE, LOCK=NONE;",
            "SELECT table_name, ROUND(data_length / 1024 / 1024) AS data_mb\n"
            "FROM information_schema.tables\n"
            "WHERE table_schema = 'app'\n"
            "ORDER BY data_length DESC;",
            "SET GLOBAL slow_query_log = 'ON';\nSET GLOBAL long_query_time = 0.5;",
        ),
    ),
    Stack(
        "docker",
        "devops",
        "dockerfile",
        ("docker", "docker compose", "buildkit", "trivy"),
        (
            "FROM python:3.12-slim\n"
            "WORKDIR /app\n"
            "COPY requirements.txt .\n"
            "RUN pip install --no-cache-dir -r requirements.txt\n"
            "COPY . .\n"
            "HEALTHCHECK CMD curl -fsS http://localhost:8000/health || exit 1\n"
            'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]',
            "FROM node:20-alpine AS build\n"
            "WORKDIR /src\n"
            "COPY package*.json ./\n"
            "RUN npm ci && npm run build\n"
            "\n"
            "FROM nginx:1.27-alpine\n"
            "COPY --from=build /src/dist /usr/share/nginx/html",
        ),
    ),
    Stack(
        "terraform",
        "infrastructure",
        "hcl",
        ("terraform", "tflint", "terragrunt", "aws cli"),
        (
            'resource "aws_s3_bucket_lifecycle_configuration" "logs" {\n'
            "  bucket = aws_s3_bucket.logs.id\n"
            "\n"
            "  rule {\n"
            '    id     = "expire-old-logs"\n'
            '    status = "Enabled"\n'
            "    expiration {\n"
            "      days = 30\n"
            "    }\n"
            "  }\n"
            "}",
            'variable "instance_count" {\n  type    = number\n  default = 2\n}',
        ),
    ),
    Stack(
        "ruby on rails",
        "backend",
        "ruby",
        ("bundler", "rspec", "sidekiq", "rubocop"),
        (
            "class ReportJob\n"
            "  include Sidekiq::Job\n"
            '  sidekiq_options retry: 5, queue: "reports"\n'
            "\n"
            "  def perform(report_id)\n"
            "    Report.find(report_id).generate!\n"
            "  end\n"
            "end",
            'Rails.cache.fetch(["post", post.id, post.updated_at], expires_in: 10.minutes) do\n'
            "  PostPresenter.new(post).as_json\n"
            "end",
        ),
    ),
    Stack(
        "java spring boot",
        "backend",
        "java",
        ("maven", "gradle", "junit", "actuator"),
        (
            "@RestController\n"
            "public class HealthController {\n"
            '    @GetMapping("/health")\n'
            "    public Map<String, Object> health() {\n"
            '        return Map.of("ok", true, "checkedAt", Instant.now().toString());\n'
            "    }\n"
            "}",
            '@Scheduled(fixedDelayString = "PT5M")\n'
            "public void cleanUpExpiredSessions() {\n"
            "    int removed = sessionRepository.deleteExpired(Instant.now());\n"
            '    log.info("removed {} expired sessions", removed);\n'
            "}",
        ),
    ),
    Stack(
        "wordpress",
        "cms",
        "php",
        ("wp-cli", "query monitor", "object cache", "wp-cron"),
        (
            "add_action('init', function () {\n"
            "    if (!wp_next_scheduled('anp_cleanup')) {\n"
            "        wp_schedule_event(time(), 'hourly', 'anp_cleanup');\n"
            "    }\n"
            "});",
            "$posts = get_transient('anp_popular_posts');\n"
            "if (false === $posts) {\n"
            "    $posts = new WP_Query(['posts_per_page' => 10, 'orderby' => 'comment_count']);\n"
            "    set_transient('anp_popular_posts', $posts, 10 * MINUTE_IN_SECONDS);\n"
            "}",
        ),
    ),
    Stack(
        "laravel",
        "backend",
        "php",
        ("artisan", "horizon", "pest", "telescope"),
        (
            "class SendInvoice implements ShouldQueue\n"
            "{\n"
            "    use Dispatchable, InteractsWithQueue, Queueable;\n"
            "\n"
            "    public int $tries = 3;\n"
            "\n"
            "    public function handle(Mailer $mailer): void\n"
            "    {\n"
            "        $mailer->to($this->invoice->email)->send(new InvoiceMail($this->invoice));\n"
            "    }\n"
            "}",
            "Schema::table('orders', function (Blueprint $table) {\n"
            "    $table->index(['customer_id', 'created_at']);\n"
            "});",
        ),
    ),
    Stack(
        "django",
        "backend",
        "python",
        ("manage.py", "celery", "pytest-django", "gunicorn"),
        (
            "class Migration(migrations.Migration):\n"
            "    dependencies = [('shop', '0041_order_status')]\n"
            "\n"
            "    operations = [\n"
            "        migrations.AddIndex(\n"
            "            model_name='order',\n"
            "            index=models.Index(fields=['customer', 'created_at'], name='order_cc'),\n"
            "        ),\n"
            "    ]",
            "@shared_task(bind=True, max_retries=3, default_retry_delay=30)\n"
            "def send_report(self, report_id):\n"
            "    try:\n"
            "        Report.objects.get(pk=report_id).send()\n"
            "    except SMTPException as exc:\n"
            "        raise self.retry(exc=exc)",
        ),
    ),
    Stack(
        "rust services",
        "backend",
        "rust",
        ("cargo", "clippy", "tokio-console", "criterion"),
        (
            "async fn health() -> impl IntoResponse {\n"
            '    Json(serde_json::json!({ "ok": true }))\n'
            "}",
            "let client = reqwest::Client::builder()\n"
            "    .timeout(Duration::from_secs(5))\n"
            "    .build()?;",
        ),
    ),
    Stack(
        "elasticsearch",
        "search",
        "json",
        ("elasticsearch", "kibana", "curl", "index templates"),
        (
            '{\n  "index": {\n    "number_of_replicas": 1,\n    "refresh_interval": "30s"\n  }\n}',
            '{\n  "query": { "match": { "title": "background jobs" } },\n  "size": 20\n}',
        ),
    ),
    Stack(
        "aws lambda",
        "serverless",
        "python",
        ("aws sam", "cloudwatch", "boto3", "pytest"),
        (
            "TABLE = os.environ['TABLE_NAME']\n"
            "\n"
            "\n"
            "def handler(event, context):\n"
            "    body = json.loads(event.get('body') or '{}')\n"
            "    return {'statusCode': 200, 'body': json.dumps({'ok': True, 'keys': list(body)})}",
            "s3 = boto3.client('s3')\n"
            "for page in s3.get_paginator('list_objects_v2').paginate(Bucket=bucket):\n"
            "    for item in page.get('Contents', []):\n"
            "        print(item['Key'], item['Size'])",
        ),
    ),
    Stack(
        "github actions",
        "ci",
        "yaml",
        ("github actions", "act", "dependabot", "codeql"),
        (
            "name: tests\n"
            "on:\n"
            "  pull_request:\n"
            "  push:\n"
            "    branches: [main]\n"
            "jobs:\n"
            "  test:\n"
            "    runs-on: ubuntu-latest\n"
            "    steps:\n"
            "      - uses: actions/checkout@v4\n"
            "      - run: make test",
            "concurrency:\n  group: deploy-${{ github.ref }}\n  cancel-in-progress: false",
        ),
    ),
    Stack(
        "mongodb",
        "database",
        "javascript",
        ("mongosh", "atlas", "compass", "mongodump"),
        (
            "db.orders.createIndex({ customerId: 1, createdAt: -1 }, { name: 'customer_created' });",
            "db.orders.find({ status: 'pending' })\n"
            "  .sort({ createdAt: -1 })\n"
            "  .limit(20)\n"
            "  .explain('executionStats');",
        ),
    ),
    Stack(
        "rabbitmq",
        "messaging",
        "python",
        ("rabbitmqctl", "pika", "management ui", "prometheus"),
        (
            "channel.queue_declare(queue='jobs', durable=True,\n"
            "                      arguments={'x-dead-letter-exchange': 'jobs.dlx'})\n"
            "channel.basic_qos(prefetch_count=10)\n"
            "channel.basic_consume(queue='jobs', on_message_callback=handle_job)",
            "def handle_job(channel, method, properties, body):\n"
            "    job = json.loads(body)\n"
            "    run(job)\n"
            "\n"
            "    channel.basic_ack(delivery_tag=method.delivery_tag)",
        ),
    ),
    Stack(
        "next.js",
        "frontend",
        "typescript",
        ("next", "vercel", "playwright", "eslint"),
        (
            "export async function GET(request: Request): Promise<Response> {\n"
            "  const url = new URL(request.url);\n"
            "  const page = Number(url.searchParams.get('page') ?? '1');\n"
            "  return Response.json({ page, items: await listPosts(page) });\n"
            "}",
            "export const revalidate = 300;\n"
            "\n"
            "export default async function Page({ params }: { params: { slug: string } }) {\n"
            "  const post = await getPost(params.slug);\n"
            "  return <Article post={post} />;\n"
            "}",
        ),
    ),
    Stack(
        "ansible",
        "devops",
        "yaml",
        ("ansible", "ansible-lint", "molecule", "ansible vault"),
        (
            "- name: rotate application logs\n"
            "  hosts: web\n"
            "  become: true\n"
            "  tasks:\n"
            "    - name: install logrotate config\n"
            "      ansible.builtin.template:\n"
            "        src: app-logrotate.j2\n"
            "        dest: /etc/logrotate.d/app\n"
            '        mode: "0644"',
        ),
    ),
    Stack(
        ".net services",
        "backend",
        "csharp",
        ("dotnet cli", "xunit", "serilog", "entity framework"),
        (
            'app.MapGet("/health", () => Results.Ok(new { ok = true, checkedAt = DateTime.UtcNow }));',
            'builder.Services.AddHttpClient("billing", client =>\n'
            "{\n"
            '    client.BaseAddress = new Uri("https://billing.internal/");\n'
            "    client.Timeout = TimeSpan.FromSeconds(5);\n"
            "});",
        ),
    ),
    Stack(
        "vue.js",
        "frontend",
        "javascript",
        ("vite", "pinia", "vitest", "eslint"),
        (
            "const jobs = ref([]);\n"
            "const failed = computed(() => jobs.value.filter((job) => job.status === 'failed'));\n"
            "\n"
            "onMounted(async () => {\n"
            "  jobs.value = await fetch('/api/jobs').then((res) => res.json());\n"
            "});",
        ),
    ),
    Stack(
        "prometheus monitoring",
        "observability",
        "yaml",
        ("prometheus", "alertmanager", "grafana", "promtool"),
        (
            "groups:\n"
            "  - name: app\n"
            "    rules:\n"
            "      - alert: HighErrorRate\n"
            '        expr: rate(http_requests_total{status=~"5.."}[5m]) > 0.05\n'
            "        for: 10m\n"
            "        labels:\n"
            "          severity: page",
        ),
    ),
)

PROBLEMS: tuple[str, ...] = (
    "handling background jobs",
    "caching api responses",
    "running database migrations",
    "rate limiting public endpoints",
    "rotating application logs",
    "shipping zero-downtime deploys",
    "storing user sessions",
    "optimizing image delivery",
    "versioning a public api",
    "adding health checks",
    "managing secrets",
    "testing backup restores",
    "tuning connection pools",
    "tracking down memory leaks",
    "fixing slow queries",
    "tracking production errors",
    "rolling out feature flags",
    "rebuilding search indexes",
    "handling file uploads",
    "sending transactional email",
    "scheduling recurring tasks",
    "managing configuration",
    "upgrading dependencies",
    "balancing incoming traffic",
    "retrying failed queue messages",
    "structuring application logs",
    "renewing tls certificates",
    "invalidating stale caches",
    "changing table schemas",
    "tightening access control",
    "profiling slow requests",
    "serving static assets",
    "paginating large result sets",
    "cleaning up old data",
    "monitoring disk usage",
    "handling incoming webhooks",
)

SCENARIOS: tuple[str, ...] = (
    "on a single vps",
    "behind a cdn",
    "with simple rollback steps",
    "with clear owner notes",
    "on a small team",
    "in a monorepo",
    "across two regions",
    "with a strict maintenance window",
    "on shared hosting",
    "on a tight budget",
    "during a traffic spike",
    "after a framework upgrade",
    "with audit requirements",
    "inside a container cluster",
    "for a high-traffic blog",
    "in a legacy codebase",
    "on managed cloud services",
    "with nightly imports",
    "before a major launch",
    "with read replicas",
    "with a remote team",
    "for an internal dashboard",
    "for a multi-tenant app",
    "with limited monitoring",
)

# Primary title templates, and for each the rewording used by planted near-copies. The reworded
# prefixes never occur among the primary ones, so near-copy titles stay distinct from the rest.
TITLE_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("production checklist for {p} in {s}", "a production checklist for {p} in {s}"),
    ("building a safer workflow for {p} with {s}", "building a safer workflow around {p} with {s}"),
    ("field notes on {p} for {s}", "more field notes on {p} for {s}"),
    ("a practical guide to {p} in {s}", "a hands-on guide to {p} in {s}"),
    ("how to approach {p} with {s}", "how we approach {p} with {s}"),
    ("lessons learned from {p} in {s}", "what we learned from {p} in {s}"),
    ("a calm approach to {p} for {s}", "a calmer approach to {p} for {s}"),
    ("what to check before {p} in {s}", "what to verify before {p} in {s}"),
    ("common mistakes when {p} in {s}", "frequent mistakes when {p} in {s}"),
    ("a step-by-step plan for {p} in {s}", "a step-by-step approach to {p} in {s}"),
    ("notes from the field: {p} in {s}", "more notes from the field: {p} in {s}"),
    ("troubleshooting {p} in {s}", "debugging {p} in {s}"),
)

TITLE_SUFFIXES: tuple[str, ...] = (
    "",
    ": maintenance guide",
    ": step by step",
    ": practical notes",
    ": lessons learned",
    ": a short guide",
    ": team runbook",
)

INTROS: tuple[str, ...] = (
    "this is a field note for developers who want a calm, readable solution. the focus is {p} in "
    "{s} {c}, with checks that can be reused later.",
    "a reliable {s} setup is less about clever code and more about repeatable habits. in this "
    "guide, we look at {p} {c} and keep the steps focused on production work.",
    "when a project grows, {p} stops being a small cleanup task and becomes part of the way the "
    "team ships software. this alphanode note walks through a practical approach to {s} {c}.",
    "{p} looks simple until it fails at the worst possible time. this article collects the checks "
    "we use for {s} {c}, in the order we actually run them.",
    "this guide explains {p} for {s} {c}. it favours small, measurable steps over large rewrites, "
    "and every step can be rolled back.",
)

SECTIONS: dict[str, tuple[str, ...]] = {
    "production checks": (
        "large content sites need predictable background work. queues, cron events, and import "
        "scripts should be idempotent, logged, and safe to run again. that makes recovery much "
        "easier when a request stops halfway through.",
        "cache rules should be written for people who will debug them later. name the rule, "
        "document the bypass conditions, and include examples of pages that should and should "
        "not be cached.",
        "database changes need extra care. check the existing indexes, inspect the query plan, "
        "and test the migration on a copy of real data. the fastest query in development can "
        "still become the slowest request in production.",
        "monitoring should answer simple questions quickly: is the service up, is it slow, are "
        "jobs failing, and did the last deployment change anything. dashboards are useful only "
        "when the signals are easy to understand during pressure.",
        "before any release, write down what normal looks like. a baseline for latency, error "
        "rate, and queue depth turns a vague feeling that something is slow into a number that "
        "can be compared after the change.",
        "capacity problems rarely arrive all at once. watch disk usage, connection counts, and "
        "memory growth over a week, and set alerts on the trend instead of waiting for the hard "
        "limit.",
    ),
    "the practical approach": (
        "treat staging as a rehearsal, not just a place to click around. copy the important "
        "configuration, test the real deployment command, and confirm that a rollback can be "
        "executed without searching through old notes.",
        "developer experience also matters. if the setup requires five manual steps, put those "
        "steps in a command, a make target, or a short runbook. small automation saves time "
        "every time the project is moved to another machine.",
        "keep the implementation boring on purpose. a clear function name, a small configuration "
        "array, and one predictable code path will usually survive future maintenance better "
        "than a clever abstraction that only one developer understands.",
        "when the feature touches user input, validate at the boundary and keep error messages "
        "specific. a good error message should explain what failed, what value was expected, "
        "and whether the request can be retried safely.",
        "start with the path that fails most often. a short list of the three most common errors "
        "usually points to one small fix that removes most of the noise.",
        "write the change as a sequence of small commits. each step should build, pass its "
        "tests, and be safe to deploy on its own, so a rollback never has to undo more than one "
        "idea.",
    ),
    "security and maintenance notes": (
        "a good production pattern has a small surface area. it should be easy to test, easy to "
        "disable, and easy to explain to another developer in a few minutes.",
        "write the final notes immediately after the change ships. include the reason for the "
        "change, the files touched, the command used, and the metric that improved. this turns "
        "a one-time fix into reusable team knowledge.",
        "security hardening works best as a checklist. confirm permissions, secrets, headers, "
        "upload limits, and logging. do not hide security settings inside unrelated code because "
        "future reviewers will miss them.",
        "avoid mixing content decisions with infrastructure decisions. templates, query rules, "
        "and cache behavior should be separate enough that changing one does not unexpectedly "
        "break the others.",
        "dependencies age quietly. schedule a regular review of outdated packages, read the "
        "changelogs for anything that touches authentication or storage, and upgrade in small "
        "batches.",
        "access should follow the task, not the person. give services their own credentials, "
        "limit them to what the job needs, and rotate them on a schedule that someone actually "
        "owns.",
    ),
    "why this matters": (
        "for performance work, change one variable at a time. measure the before state, apply "
        "the smallest safe change, clear only the cache that matters, and compare the result. "
        "this avoids confusing a lucky cache hit with a real fix.",
        "the first useful improvement is usually visibility. collect the response time, error "
        "rate, cache status, and database call count before changing code. if those numbers are "
        "not available, add a lightweight log line or health check instead of guessing.",
        "most production incidents start as small inconsistencies that nobody wrote down. a "
        "short, shared description of how the system is supposed to behave makes those "
        "inconsistencies visible early.",
        "teams move faster when changes are predictable. a documented, repeatable procedure lets "
        "a new developer ship the same fix on a friday afternoon without a senior engineer "
        "watching.",
        "the cost of a failed change is rarely the change itself. it is the hour spent working "
        "out what happened, which is why clear logs and a written rollback path pay for "
        "themselves.",
    ),
    "common pitfalls": (
        "the most common mistake is changing several things at once. when the result improves "
        "or breaks, nobody can say which change was responsible, and the next attempt starts "
        "from guesswork.",
        "another pitfall is trusting the development environment. production has more data, "
        "slower disks, real traffic patterns, and background jobs that never run on a laptop.",
        "silent failures are worse than loud ones. a job that swallows an exception and reports "
        "success will hide a problem for weeks, so make failures visible and countable.",
        "configuration drift causes surprises. if one server was tuned by hand, document the "
        "change or move it into the deployment scripts before it is forgotten.",
    ),
    "measuring the result": (
        "compare the same window before and after the change. a busy monday morning and a quiet "
        "sunday night will never give a fair comparison.",
        "keep the measurement simple enough to repeat. one script that prints the median and the "
        "slowest requests is more useful than a dashboard nobody knows how to read.",
        "record the numbers next to the change itself. a short table with the before value, the "
        "after value, and the date makes the next review much faster.",
        "look at the slowest requests, not only the average. a good average can hide a small "
        "group of users who wait ten times longer than everyone else.",
    ),
    "rollout plan": (
        "roll out to a small share of traffic first. watch the error rate and the slowest "
        "requests for a while before widening the change to everyone.",
        "decide the rollback trigger before the release starts. a clear threshold, such as an "
        "error rate above one percent, removes the temptation to wait and hope.",
        "announce the change window to the people who will notice it. support staff and on-call "
        "engineers should know what is changing and who to contact.",
        "keep the old path available until the new one has run through a full busy period. "
        "removing it too early turns a quick rollback into an emergency.",
    ),
}
# The first four are the samples' headings and the most common ones.
_HEADINGS = tuple(SECTIONS)

OWNER_SUFFIX = (
    " for this {s} case, keep the owner, expected result, and rollback note in the same place."
)
APPROACH_SUFFIX = (
    " the alphanode approach is to prefer a small verified change over a broad rewrite."
)

FINAL_NOTES: tuple[str, ...] = (
    "the best result is not only a faster or cleaner {s} implementation. it is a change that "
    "another developer can inspect, understand, and safely repeat. keep the final commands, "
    "metrics, and assumptions close to the article so future maintenance is easier.",
    "a good {s} change is one the next developer can read without asking questions. keep the "
    "commands, the measurements, and the reasons in one place, and revisit them after the next "
    "release.",
    "treat this {s} setup as a living document. when the system changes, update the checklist, "
    "rerun the measurements, and remove steps that no longer apply.",
)

CHECKLISTS: tuple[tuple[str, ...], ...] = (
    (
        "capture the current behavior",
        "create a safe backup",
        "test the smallest change",
        "watch logs after release",
        "write the final note",
    ),
    (
        "inspect cache headers",
        "test logged-in traffic",
        "purge only the affected route",
        "measure response time",
        "keep a rollback command ready",
    ),
    (
        "check the existing indexes",
        "run the migration on a copy",
        "measure the slow query",
        "plan the rollback statement",
        "watch replication lag",
    ),
    (
        "tag the release",
        "run the smoke tests",
        "deploy to one instance first",
        "watch error rates",
        "keep the previous build ready",
    ),
    (
        "review access rules",
        "rotate exposed secrets",
        "check security headers",
        "confirm upload limits",
        "log denied requests",
    ),
    (
        "make jobs idempotent",
        "set a retry limit",
        "add a dead letter queue",
        "alert on queue depth",
        "document manual replays",
    ),
)

SUMMARY_EMPHASES: tuple[str, ...] = (
    "measurement, safe defaults, rollback planning, and maintainable documentation",
    "small verified changes, clear ownership, and repeatable checks",
    "observability, safe rollouts, and written rollback steps",
)
AI_BRIEFS: tuple[str, ...] = (
    "the article is written like a careful ai generated engineering draft: it explains the reason "
    "for the change, lists operational checks, and avoids pretending that one command fixes every "
    "production case.",
    "the article reads like a structured ai generated runbook: it states the goal, walks through "
    "checks in order, and keeps rollback notes next to each risky step.",
)
RECOMMENDED_ACTIONS: tuple[str, ...] = (
    "measure first, change carefully, document the result",
    "start small, verify in staging, keep a rollback ready",
    "add visibility, fix the worst path, write it down",
)
NOTES: tuple[str, ...] = (
    "sanitized array meta is expected to render as a list in the frontend box",
    "view count is synthetic and only used for testing meta volume",
    "content is generated for import/load testing and should be reviewed before indexing",
)
REVISION_STATUSES: tuple[str, ...] = ("drafted", "reviewed", "expanded", "edited", "published")
DIFFICULTIES: tuple[str, ...] = ("beginner", "intermediate", "advanced")
ARTEFACTS: tuple[str, ...] = ("|", "| |", "| | |", "|  |")

UNSPLASH_PHOTOS: tuple[str, ...] = (
    "1498050108023-c5249f4df085",
    "1515879218367-8466d910aaa4",
    "1461749280684-dccba630e2f6",
    "1555066931-4365d14bab8c",
    "1517694712202-14dd9538aa97",
    "1518770660439-4636190af475",
    "1526374965328-7f61d4dc18c5",
    "1550751827-4bd374c3f58b",
    "1558494949-ef010cbdcc31",
    "1451187580459-43490279c0fa",
    "1488590528505-98d2b5aba04b",
    "1504384308090-c894fdcc538d",
    "1531297484001-80022131f5a1",
    "1519389950473-47ba0277781c",
    "1504639725590-34d0984388bd",
    "1544197150-b99a580bb7a8",
)
PEXELS_PHOTOS: tuple[int, ...] = (1181671, 574071, 270348, 546819, 1181244, 577585, 1779487)
LOREMFLICKR_TAGS: tuple[str, ...] = ("code,developer", "server,datacenter", "laptop,code")
DUMMYIMAGE_COLORS: tuple[str, ...] = ("111827/ffffff", "0f172a/e2e8f0", "1f2937/f9fafb")
IMAGE_HOSTS: tuple[str, ...] = (
    "unsplash",
    "pexels",
    "loremflickr.com",
    "dummyimage.com",
    "placehold.co",
)
# Cumulative weights (percent): unsplash 35, pexels 10, loremflickr 20, dummyimage 18, placehold 17.
_IMAGE_HOST_WEIGHTS = tuple(accumulate((35, 10, 20, 18, 17)))
# How many images a post has, 0..6 (cumulative weights): a third have none.
_IMAGE_COUNT_WEIGHTS = tuple(accumulate((35, 15, 20, 12, 8, 6, 4)))
_IMAGE_HEAVY_FROM = 4

NEAR_COPY_PER_10K = 200  # about 2%
NEEDS_REVIEW_PER_3 = 1

# ---------------------------------------------------------------------------------------------
# Keyed integer mixing and bijections (deterministic across processes, unlike hash())
# ---------------------------------------------------------------------------------------------

_MASK64 = (1 << 64) - 1


def _splitmix(value: int) -> int:
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


def _mix(*parts: int) -> int:
    state = 0x243F6A8885A308D3
    for part in parts:
        state = _splitmix(state ^ (part & _MASK64))
    return state


@lru_cache(maxsize=64)
def _round_keys(key: int) -> tuple[int, ...]:
    return tuple(_mix(key, round_no) for round_no in range(4))


def _permute(value: int, size: int, key: int) -> int:
    """A keyed bijection of range(size): a small Feistel network with cycle walking."""
    bits = max(2, (size - 1).bit_length())
    bits += bits & 1
    half = bits // 2
    half_mask = (1 << half) - 1
    round_keys = _round_keys(key)
    while True:
        left, right = value >> half, value & half_mask
        for round_key in round_keys:
            left, right = right, left ^ (_splitmix(round_key ^ right) & half_mask)
        value = (left << half) | right
        if value < size:
            return value


# Title combination spaces. Radix order: template, stack, problem, suffix[, scenario].
_PLAIN_SIZE = len(TITLE_TEMPLATES) * len(STACKS) * len(PROBLEMS) * len(TITLE_SUFFIXES)
_SCENARIO_SIZE = _PLAIN_SIZE * len(SCENARIOS)
assert _PLAIN_SIZE + _SCENARIO_SIZE >= MAX_COUNT


@dataclass(frozen=True)
class _TitleCombo:
    template: int
    stack: int
    problem: int
    suffix: int
    scenario: int | None  # named in the title, or None


def _decode(number: int, with_scenario: bool) -> _TitleCombo:
    number, template = divmod(number, len(TITLE_TEMPLATES))
    number, stack = divmod(number, len(STACKS))
    number, problem = divmod(number, len(PROBLEMS))
    number, suffix = divmod(number, len(TITLE_SUFFIXES))
    scenario = number % len(SCENARIOS) if with_scenario else None
    return _TitleCombo(template, stack, problem, suffix, scenario)


def _title_combo(index: int, rng_seed: int) -> _TitleCombo:
    """Each index gets its own combination, whatever the total count.

    One index in five draws from the scenario-in-title space; the others from the plain space
    until it is used up, then from the top of the scenario space (which the one-in-five never
    reaches below MAX_COUNT).
    """
    group, slot = divmod(index, 5)
    if slot == 0:
        return _decode(_permute(group, _SCENARIO_SIZE, _mix(rng_seed, 2)), True)
    plain_index = 4 * group + slot - 1
    if plain_index < _PLAIN_SIZE:
        return _decode(_permute(plain_index, _PLAIN_SIZE, _mix(rng_seed, 1)), False)
    overflow = _SCENARIO_SIZE - 1 - (plain_index - _PLAIN_SIZE)
    return _decode(_permute(overflow, _SCENARIO_SIZE, _mix(rng_seed, 2)), True)


def _title(combo: _TitleCombo, reworded: bool = False) -> str:
    template = TITLE_TEMPLATES[combo.template][1 if reworded else 0]
    title = template.format(p=PROBLEMS[combo.problem], s=STACKS[combo.stack].name)
    if combo.scenario is not None:
        title += " " + SCENARIOS[combo.scenario]
    return title + TITLE_SUFFIXES[combo.suffix]


def _post_number(index: int, rng_seed: int) -> int:
    """The six-digit number in reference, source id and seed; unique per index."""
    return _permute(index, MAX_COUNT, _mix(rng_seed, 3))


def _is_near_copy(index: int, rng_seed: int) -> bool:
    return index > 0 and _mix(rng_seed, 4, index) % 10_000 < NEAR_COPY_PER_10K


def _near_copy_source(index: int, rng_seed: int) -> int:
    """An earlier post that is not itself a near-copy (index 0 never is one)."""
    attempt = 0
    while True:
        source = _mix(rng_seed, 5, index, attempt) % index
        if not _is_near_copy(source, rng_seed):
            return source
        attempt += 1


class _Rng(random.Random):
    """random.Random with the picks most used here done from one random() call each: the
    stock ones loop on getrandbits and dominated the render time. Deterministic as well."""

    def choice(self, seq):  # type: ignore[override]
        return seq[int(self.random() * len(seq))]

    def randint(self, a: int, b: int) -> int:  # type: ignore[override]
        return a + int(self.random() * (b - a + 1))

    def randrange(self, stop: int) -> int:  # type: ignore[override]
        return int(self.random() * stop)

    def weighted(self, items: Sequence, cumulative: Sequence[int]):
        return items[bisect_right(cumulative, self.random() * cumulative[-1])]


# ---------------------------------------------------------------------------------------------
# Body
# ---------------------------------------------------------------------------------------------


@dataclass
class _Image:
    caption: str
    source: str
    url: str


@dataclass
class _Body:
    stack: Stack
    problem: str
    scenario: str
    checklist: tuple[str, ...]
    # (text, glued): glued blocks follow the previous one after a single newline.
    blocks: list[tuple[str, bool]] = field(default_factory=list)
    images: list[_Image] = field(default_factory=list)
    paragraphs: int = 0
    # The images after the checklist: first block position, how many, glued to the list or not.
    tail_image_at: int = 0
    tail_images: int = 0
    tail_glued: bool = True


def _image(rng: _Rng, phrase: str, number: int, post_number: int) -> _Image:
    caption = f"{phrase} visual reference {number}"
    host = rng.weighted(IMAGE_HOSTS, _IMAGE_HOST_WEIGHTS)
    if host == "unsplash":
        photo = rng.choice(UNSPLASH_PHOTOS)
        url = f"https://images.unsplash.com/photo-{photo}?auto=format&fit=crop&w=1200&q=80"
    elif host == "pexels":
        photo_id = rng.choice(PEXELS_PHOTOS)
        url = (
            f"https://images.pexels.com/photos/{photo_id}/pexels-photo-{photo_id}.jpeg"
            "?auto=compress&cs=tinysrgb&w=1200"
        )
    elif host == "loremflickr.com":
        tags = rng.choice(LOREMFLICKR_TAGS)
        url = f"https://loremflickr.com/1200/630/{tags}?lock={post_number + number - 1}"
    elif host == "dummyimage.com":
        colors = rng.choice(DUMMYIMAGE_COLORS)
        text = phrase[:38].rstrip().replace(" ", "+")
        url = f"https://dummyimage.com/1200x630/{colors}.png&text={text}"
    else:
        text = phrase[:42].rstrip().replace(" ", "+")
        url = f"https://placehold.co/1200x630/png?text={text}"
    return _Image(caption, host, url)


def _image_pair(image: _Image) -> str:
    return f"{image.caption}\n{image.caption}. image source: {image.source}"


def _section(rng: _Rng, heading: str, size: int, first: bool, stack: str) -> list[str]:
    paragraphs = rng.sample(SECTIONS[heading], size)
    owner = OWNER_SUFFIX.format(s=stack)
    if first:
        # The samples: the second-to-last paragraph names the owner, the last the approach.
        paragraphs[-2] += owner
        paragraphs[-1] += APPROACH_SUFFIX
    else:
        paragraphs[1] += owner
    return paragraphs


def _build_body(
    stack_index: int, problem_index: int, scenario_index: int, rng: _Rng, post_number: int
) -> _Body:
    stack = STACKS[stack_index]
    problem = PROBLEMS[problem_index]
    scenario = SCENARIOS[scenario_index]
    checklist = rng.choice(CHECKLISTS) if rng.random() < 0.5 else CHECKLISTS[0]
    if rng.random() < 0.1:
        dropped = rng.choice(checklist)
        checklist = tuple(item for item in checklist if item != dropped)
    body = _Body(stack, problem, scenario, checklist)
    phrase = f"{problem} with {stack.name}"

    image_count = rng.weighted(range(len(_IMAGE_COUNT_WEIGHTS)), _IMAGE_COUNT_WEIGHTS)
    body.images = [_image(rng, phrase, n, post_number) for n in range(1, image_count + 1)]
    head_images = rng.randint(0, image_count)

    blocks = body.blocks
    blocks.append((rng.choice(INTROS).format(p=problem, s=stack.name, c=scenario), False))
    paragraphs = 1
    for position, image in enumerate(body.images[:head_images]):
        blocks.append((_image_pair(image), position > 0))

    # Mostly two of the samples' four headings; sometimes the others, sometimes a third section.
    pool = _HEADINGS[:4] if rng.random() < 0.8 else _HEADINGS
    headings = rng.sample(pool, 3 if rng.random() < 0.15 else 2)
    snippets = rng.sample(stack.snippets, min(len(stack.snippets), 2))
    # Code after the first section (as in most samples), the second, or one after each.
    code_after = rng.weighted(((0,), (1,), (0, 1)), (65, 85, 100))
    if len(snippets) < len(code_after):  # one snippet: never the same code twice
        code_after = code_after[:1]
    for section_no, heading in enumerate(headings):
        first = section_no == 0
        size = rng.randint(3, 5) if first else rng.randint(2, 3)
        size = min(size, len(SECTIONS[heading]))
        blocks.append((heading, False))
        blocks.extend((text, False) for text in _section(rng, heading, size, first, stack.name))
        paragraphs += size
        if section_no in code_after:
            blocks.append((snippets[code_after.index(section_no)], False))

    blocks.append(("implementation checklist", False))
    blocks.append(("\n".join(BULLET + item for item in checklist), False))
    body.tail_image_at = len(blocks)
    body.tail_glued = rng.random() < 0.75
    for position, image in enumerate(body.images[head_images:]):
        blocks.append((_image_pair(image), position > 0 or body.tail_glued))
    body.tail_images = image_count - head_images
    blocks.append(("final notes", False))
    blocks.append((rng.choice(FINAL_NOTES).format(s=stack.name), False))
    body.paragraphs = paragraphs + 1
    return body


def _add_image(body: _Body, rng: _Rng, post_number: int) -> None:
    """A near-copy's extra image, appended to the images after the checklist."""
    phrase = f"{body.problem} with {body.stack.name}"
    image = _image(rng, phrase, len(body.images) + 1, post_number)
    glued = body.tail_images > 0 or body.tail_glued
    body.blocks.insert(body.tail_image_at + body.tail_images, (_image_pair(image), glued))
    body.images.append(image)
    body.tail_images += 1


# ---------------------------------------------------------------------------------------------
# Document
# ---------------------------------------------------------------------------------------------


def _random_date(rng: _Rng) -> str:
    # 2015-01-01 .. 2026-06-30: a spread of fresh and stale `last reviewed` dates.
    year = rng.randint(2015, 2026)
    month = rng.randint(1, 6 if year == 2026 else 12)
    day = rng.randint(1, 28)
    return f"{year:04d}-{month:02d}-{day:02d}"


def _meta_lines(body: _Body, rng: _Rng, post_number: int, word_count: int) -> list[str]:
    stack = body.stack
    lines: list[str] = []
    add = lines.append

    def bullets(items: Sequence[str]) -> None:
        lines.extend(BULLET + item for item in items)

    add(f"topic{body.problem} / {stack.name}")
    add(
        f"summarythis ai-style technical summary explains {body.problem} in {stack.name}, "
        f"with emphasis on {rng.choice(SUMMARY_EMPHASES)}."
    )
    add("ai outline")
    bullets(
        (
            f"context: {body.scenario}",
            f"problem: {body.problem}",
            f"stack: {stack.name}",
            f"recommended action: {rng.choice(RECOMMENDED_ACTIONS)}",
        )
    )
    add("ai brief" + rng.choice(AI_BRIEFS))
    add("stack")
    bullets((stack.name, stack.area, stack.language))
    add("tools")
    tools = list(stack.tools[:4])
    if len(stack.tools) > 4 and rng.random() < 0.3:
        tools[rng.randrange(4)] = stack.tools[4]
    bullets((*tools, "git", "logs"))
    add("code language" + stack.language)
    add("difficulty" + rng.choice(DIFFICULTIES))
    # About 200 words a minute; one post in ten carries an inflated figure like the samples.
    reading_time = max(1, round(word_count / 200))
    if rng.random() < 0.1:
        reading_time = rng.randint(8, 14)
    add(f"reading time{reading_time}")
    add(f"view count{int(10 ** rng.uniform(1.7, 5.75))}")
    add("score")
    bullets(
        tuple(
            f"{name}: {rng.randint(50, 99)}"
            for name in ("quality", "freshness", "depth", "clarity")
        )
    )
    major = rng.weighted((0, 1, 2), (10, 85, 100))
    add("revision")
    bullets(
        (
            f"status: {rng.choice(REVISION_STATUSES)}",
            f"version: {major}.{rng.randint(0, 9)}.{rng.randint(0, 9)}",
            f"last reviewed: {_random_date(rng)}",
        )
    )
    add(f"referenceanp-ref-{post_number:06d}-{rng.randint(0, 9999):04d}")
    add(f"hash{rng.getrandbits(96):024x}")
    image_count = len(body.images)
    needs_review = rng.randrange(3) < NEEDS_REVIEW_PER_3
    add("flags")
    bullets(
        (
            f"ai generated style: {int(rng.random() < 0.9)}",
            f"has images: {int(image_count > 0)}",
            f"image heavy: {int(image_count >= _IMAGE_HEAVY_FROM)}",
            f"needs human review: {int(needs_review)}",
        )
    )
    add("checklist")
    bullets(body.checklist)
    add("entities")
    entities = [(stack.name, "stack"), (stack.area, "area"), (body.problem, "problem")]
    if rng.random() < 0.3:
        entities.append((rng.choice(stack.tools), "tool"))
    for name, kind in entities:
        add(f"{SUB_BULLET}name: {name}")
        add(f"{SUB_BULLET}type: {kind}")
    if body.images:
        add("image sources")
        for image in body.images:
            add(f"{SUB_BULLET}source: {image.source}")
            add(f"{SUB_BULLET}url: {image.url}")
            add(f"{SUB_BULLET}caption: {image.caption}")
    add("payload")
    bullets(
        (
            f"source id: alphanode-{post_number:06d}",
            "generator: anp content synthesizer",
            f"paragraphs: {body.paragraphs - 1}",
            f"scenario: {body.scenario}",
            f"seed: {post_number}",
        )
    )
    add("notes")
    bullets(NOTES)
    return lines


def _body_for(index: int, rng_seed: int, post_number: int) -> tuple[_TitleCombo, _Body]:
    """Title combination and body of post `index`; images are numbered for `post_number`."""
    combo = _title_combo(index, rng_seed)
    rng = _Rng(_mix(rng_seed, 6, index))
    scenario = combo.scenario if combo.scenario is not None else rng.randrange(len(SCENARIOS))
    return combo, _build_body(combo.stack, combo.problem, scenario, rng, post_number)


def render_document(index: int, rng_seed: int) -> tuple[str, str]:
    """Render post `index` of the corpus for `rng_seed`: (file name, full text).

    Pure: depends only on its arguments, so any subset can be rendered in any process.
    """
    if not 0 <= index < MAX_COUNT:
        raise ValueError(f"index must be in 0..{MAX_COUNT - 1}, got {index}")
    post_number = _post_number(index, rng_seed)
    meta_rng = _Rng(_mix(rng_seed, 7, index))
    if _is_near_copy(index, rng_seed):
        # The source's body, its loremflickr locks included.
        source = _near_copy_source(index, rng_seed)
        combo, body = _body_for(source, rng_seed, _post_number(source, rng_seed))
        if meta_rng.random() < 0.5:  # a different suffix as well as a reworded opening
            combo = replace(combo, suffix=meta_rng.randrange(len(TITLE_SUFFIXES)))
        title = _title(combo, reworded=True)
        if meta_rng.random() < 0.5:
            _add_image(body, meta_rng, post_number)
    else:
        combo, body = _body_for(index, rng_seed, post_number)
        title = _title(combo)

    body_parts: list[str] = []
    for text, glued in body.blocks:
        if body_parts:
            body_parts.append("\n" if glued else "\n\n")
        body_parts.append(text)
    body_text = "".join(body_parts)

    parts: list[str] = []
    if meta_rng.random() < 0.12:
        parts.append(meta_rng.choice(ARTEFACTS) + "\n\n")
    parts += [title, "\n\n", body_text, "\n\nalphanode post meta\n\n"]
    parts.append("\n".join(_meta_lines(body, meta_rng, post_number, len(body_text.split()))))
    parts.append("\n\nSimilar Posts")
    text = "".join(parts)
    digest = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
    return f"{index:06d}_{digest}.txt", text


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)


def _write_range(out_dir: str, rng_seed: int, start: int, stop: int) -> list[str]:
    """Render and write posts start..stop-1 into out_dir; return their file names."""
    names = []
    # Creating 100k files is mostly kernel time: open relative to the directory (no path
    # walk per file) and write with bare system calls.
    use_dir_fd = os.open in os.supports_dir_fd and hasattr(os, "O_DIRECTORY")
    dir_fd = os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY) if use_dir_fd else None
    try:
        for index in range(start, stop):
            name, text = render_document(index, rng_seed)
            data = text.encode()
            if dir_fd is not None:
                fd = os.open(name, _CREATE_FLAGS, 0o644, dir_fd=dir_fd)
            else:
                fd = os.open(os.path.join(out_dir, name), _CREATE_FLAGS, 0o644)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            names.append(name)
    finally:
        if dir_fd is not None:
            os.close(dir_fd)
    return names


def _pool_context():
    """fork when this process has a single thread (fast, and works from any `__main__`,
    stdin scripts included); spawn otherwise, as forking a threaded process can deadlock."""
    if threading.active_count() == 1 and "fork" in get_all_start_methods():
        return get_context("fork")
    return get_context("spawn")


def synthesize(
    count: int,
    out_dir: Path,
    *,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> list[Path]:
    """Write posts 0..count-1 for `seed` as `count` files flat in `out_dir`; return their paths.

    `out_dir` is created when missing and must otherwise be empty, so that it ends up holding
    exactly the generated files. `progress(done, count)` is called as chunks finish. `workers`
    None uses every core for large counts and one process for small ones.
    """
    if not 0 <= count <= MAX_COUNT:
        raise ValueError(f"count must be in 0..{MAX_COUNT}, got {count}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} is not empty; synth writes into an empty directory")
    if workers is None:
        workers = min(os.cpu_count() or 1, 8) if count >= _PARALLEL_MIN else 1
    chunks = [(start, min(start + _CHUNK, count)) for start in range(0, count, _CHUNK)]
    results: dict[int, list[str]] = {}
    done = 0
    if workers <= 1 or len(chunks) <= 1:
        for start, stop in chunks:
            results[start] = _write_range(str(out_dir), seed, start, stop)
            done += stop - start
            if progress is not None:
                progress(done, count)
    else:
        with ProcessPoolExecutor(
            max_workers=min(workers, len(chunks)), mp_context=_pool_context()
        ) as pool:
            futures = {
                pool.submit(_write_range, str(out_dir), seed, start, stop): (start, stop)
                for start, stop in chunks
            }
            try:
                for future in as_completed(futures):
                    start, stop = futures[future]
                    results[start] = future.result()
                    done += stop - start
                    if progress is not None:
                        progress(done, count)
            except BaseException:
                # A failed chunk (disk full, ...) or Ctrl-C: do not write the remaining chunks.
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    return [out_dir / name for start, _ in chunks for name in results[start]]
