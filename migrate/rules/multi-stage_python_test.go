package rules

import (
	"strings"
	"testing"
)

var splitPythonCases = []splitCase{
	{
		name:  "pure python on slim",
		files: map[string]string{"requirements.txt": "flask\n", "app.py": ""},
		in:    "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nEXPOSE 8000\nCMD [\"gunicorn\", \"app:app\"]\n",
		want: `FROM python:3.12-slim AS builder
WORKDIR /app
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --no-cache-dir -r requirements.txt

FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY . .
EXPOSE 8000
CMD ["gunicorn", "app:app"]
`,
	},
	{
		name:  "poetry",
		files: map[string]string{"pyproject.toml": "", "poetry.lock": "", "app/main.py": ""},
		in:    "FROM python:3.11-bookworm\nWORKDIR /app\nRUN apt-get update && apt-get install -y build-essential libpq-dev libffi-dev\nRUN pip install poetry==1.8.3\nCOPY pyproject.toml poetry.lock ./\nRUN poetry config virtualenvs.create false && poetry install --only main --no-root\nCOPY . .\nCMD [\"python\", \"-m\", \"app.main\"]\n",
		want: `FROM python:3.11-bookworm AS builder
WORKDIR /app
RUN apt-get update && apt-get install -y build-essential libpq-dev libffi-dev
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install poetry==1.8.3
COPY pyproject.toml poetry.lock ./
RUN --mount=type=cache,target=/root/.cache/pypoetry \
    poetry config virtualenvs.create false && poetry install --only main --no-root

FROM python:3.11-bookworm
WORKDIR /app
RUN apt-get update \
    && apt-get install --no-install-recommends -y libpq5 libffi8 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY pyproject.toml poetry.lock ./
COPY . .
CMD ["python", "-m", "app.main"]
`,
	},
	{
		name:  "uv sync",
		files: map[string]string{"pyproject.toml": "", "uv.lock": "", "main.py": ""},
		in:    "FROM python:3.12-alpine\nWORKDIR /app\nRUN pip install uv\nCOPY . .\nRUN uv sync --frozen --no-dev\nCMD [\"python\", \"main.py\"]\n",
		want: `FROM python:3.12-alpine AS builder
WORKDIR /app
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH" UV_PROJECT_ENVIRONMENT=/opt/venv
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install uv
COPY . .
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

FROM python:3.12-alpine
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY . .
CMD ["python", "main.py"]
`,
	},
	{
		name:  "pipenv",
		files: map[string]string{"Pipfile": "", "Pipfile.lock": "", "main.py": ""},
		in:    "FROM python:3.12-slim\nWORKDIR /app\nCOPY Pipfile Pipfile.lock ./\nRUN pip install pipenv && pipenv install --system --deploy\nCOPY . .\nCMD [\"python\", \"main.py\"]\n",
		want: `FROM python:3.12-slim AS builder
WORKDIR /app
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY Pipfile Pipfile.lock ./
RUN --mount=type=cache,target=/root/.cache/pip \
    --mount=type=cache,target=/root/.cache/pipenv \
    pip install pipenv && pipenv install --system --deploy

FROM python:3.12-slim
WORKDIR /app
COPY Pipfile Pipfile.lock ./
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY . .
CMD ["python", "main.py"]
`,
	},
	{
		name:  "unknown dev package kept and reported",
		files: map[string]string{"requirements.txt": "", "main.py": ""},
		in:    "FROM python:3.12-alpine\nWORKDIR /app\nRUN apk add --no-cache gcc musl-dev libfoo-dev\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"main.py\"]\n",
		want: `FROM python:3.12-alpine AS builder
WORKDIR /app
RUN apk add --no-cache gcc musl-dev libfoo-dev
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY requirements.txt ./
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install -r requirements.txt

FROM python:3.12-alpine
WORKDIR /app
RUN apk add --no-cache libfoo-dev
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY . .
CMD ["python", "main.py"]
`,
		findings: []string{"installs build tools (libfoo-dev)"},
	},
	{
		name:  "virtual build deps removed in the install RUN",
		files: map[string]string{"requirements.txt": "", "main.py": ""},
		in:    "FROM python:3.12-alpine\nWORKDIR /app\nCOPY requirements.txt .\nRUN apk add --no-cache postgresql-libs && apk add --no-cache --virtual .build-deps gcc musl-dev postgresql-dev && pip install -r requirements.txt && apk del .build-deps\nCOPY . .\nCMD [\"python\", \"main.py\"]\n",
		want: `FROM python:3.12-alpine AS builder
WORKDIR /app
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip \
    apk add --no-cache postgresql-libs && apk add --no-cache --virtual .build-deps gcc musl-dev postgresql-dev && pip install -r requirements.txt && apk del .build-deps

FROM python:3.12-alpine
WORKDIR /app
COPY requirements.txt .
RUN apk add --no-cache postgresql-libs
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY . .
CMD ["python", "main.py"]
`,
	},
	{
		name:     "pip --user: no split",
		files:    map[string]string{"requirements.txt": "", "main.py": ""},
		in:       "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --user -r requirements.txt\nCMD [\"python\", \"main.py\"]\n",
		findings: []string{"--user installs outside a virtual env"},
	},
}

func TestSplitPython(t *testing.T) { runSplitCases(t, splitPythonCases) }

// TestSplitPythonNarrowCopy: the builder copies only the requirement files
// (and the local package folders they install) when the rest names packages
// from an index, and the whole context otherwise.
func TestSplitPythonNarrowCopy(t *testing.T) {
	for _, c := range []struct {
		name, reqs, run string
		narrow          bool
		files           map[string]string
		copies          string // the folder COPY expected in the builder
	}{
		{"index packages", "flask==3.0.3\n# comment\ngunicorn>=22 ; python_version > '3.8'\n", "pip install --no-cache-dir -r requirements.txt", true, nil, ""},
		{"URL requirement", "pkg @ https://example.com/pkg.whl\n", "pip install -r requirements.txt", true, nil, ""},
		{"local path that is no package", "./vendor/microweb\n", "pip install -r requirements.txt", false, nil, ""},
		{"local package folder", "flask\n./native\n", "pip install -r requirements.txt", true,
			map[string]string{"native/setup.py": "from setuptools import setup\nsetup(name='fastsum')\n", "native/fastsum.c": ""}, "COPY native ./native/\n"},
		{"nested local package folder", "vendor/microweb/\n", "pip install -r requirements.txt", true,
			map[string]string{"vendor/microweb/pyproject.toml": "[project]\nname = 'microweb'\n"}, "COPY vendor/microweb ./vendor/microweb/\n"},
		{"local package reading outside its folder", "./native\n", "pip install -r requirements.txt", false,
			map[string]string{"native/setup.py": "open('../README.md')\n"}, ""},
		{"package folder with extras", "./native[fast]\n", "pip install -r requirements.txt", false,
			map[string]string{"native/setup.py": ""}, ""},
		{"folder outside the context", "../shared\n", "pip install -r requirements.txt", false, nil, ""},
		{"editable", "-e .\n", "pip install -r requirements.txt", false, nil, ""},
		{"nested file", "-r base.txt\n", "pip install -r requirements.txt", false, nil, ""},
		{"install of the project", "flask\n", "pip install -r requirements.txt .", false, nil, ""},
		{"unknown flag", "flask\n", "pip install --find-links /wheels -r requirements.txt", false, nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"requirements.txt": c.reqs, "main.py": ""}
			for k, v := range c.files {
				files[k] = v
			}
			fb := splitContext(t, files, nil)
			in := "FROM python:3.12-slim\nWORKDIR /app\nRUN apt-get update && apt-get install -y gcc\nCOPY . .\nRUN " + c.run + "\nCMD [\"python\", \"main.py\"]\n"
			res, err := Apply([]byte(in), fb, []*Rule{MultiStage}, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			builder, _, _ := strings.Cut(string(res.Output), "\n\n")
			if got := strings.Contains(builder, "COPY requirements.txt ./\n"); got != c.narrow {
				t.Errorf("narrowed copy = %v, want %v:\n%s", got, c.narrow, res.Output)
			}
			if !c.narrow && !strings.Contains(builder, "COPY . .\n") {
				t.Errorf("builder lost its COPY:\n%s", builder)
			}
			if c.copies != "" && !strings.Contains(builder, "COPY requirements.txt ./\n"+c.copies+"RUN ") {
				t.Errorf("builder does not copy the package folder (%q) after the requirements and before the install:\n%s", c.copies, builder)
			}
		})
	}
}
