"""The refit guard (with a stub fitter): a refit that improves the site's labels is taken, one
that hurts a reference set or does not help is refused; a restore brings the model before back,
and the Answerer picks up the active site model from the database."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot import site_model
from bot.answer.evaluate import EvalQuestion
from bot.answering import Answerer
from bot.site_labels import SITE_SET_NAME
from bot.site_model import refit_with_guard, restore_previous
from bot.site_store import LabelStore, SiteModels
from hfbot.settings import Settings, load_settings
from tests.answer.site_fakes import (
    KAD,
    PARKING_LABEL,
    StubFitter,
    improving,
    reference_folders,
    small_model,
)

REFERENCE = [
    EvalQuestion(f"r{i}", f"Referanse {i}?", (f"doc{i % 3}.txt",), ("x",), set_name="dev.yaml")
    for i in range(10)
] + [EvalQuestion("k1", "Ukjent?", kind="unanswerable", set_name="extra.yaml")]
SITE = [
    EvalQuestion(f"s{i}", f"Sted {i}?", ("site.txt",), ("y",), set_name=SITE_SET_NAME)
    for i in range(50)
]


def test_a_refit_that_improves_the_site_labels_is_taken() -> None:
    fitter = StubFitter(
        before={"dev.yaml": 7, "extra.yaml": 1},
        after={"dev.yaml": 7, "extra.yaml": 1, SITE_SET_NAME: 47},
        site_now=42,
    )
    decision = refit_with_guard(REFERENCE, SITE, fitter, small_model())
    assert decision.taken and decision.model is not None
    assert fitter.fitted == [61]  # the final fit saw every question
    assert decision.summary() == ("42 → 47 av 50 merkede spørsmål riktig; referansesettene uendret")


def test_a_refit_that_hurts_a_reference_set_is_refused() -> None:
    fitter = StubFitter(
        before={"dev.yaml": 7, "extra.yaml": 1},
        after={"dev.yaml": 6, "extra.yaml": 1, SITE_SET_NAME: 49},
        site_now=42,
    )
    decision = refit_with_guard(REFERENCE, SITE, fitter, small_model())
    assert not decision.taken and decision.model is None and fitter.fitted == []
    assert decision.summary().startswith("Ikke tatt i bruk: referansesettene ble dårligere")
    assert "dev.yaml 7 → 6 av 10" in decision.summary()


def test_a_refit_that_does_not_help_the_site_is_refused() -> None:
    fitter = StubFitter(
        before={"dev.yaml": 7, "extra.yaml": 1},
        after={"dev.yaml": 8, "extra.yaml": 1, SITE_SET_NAME: 42},
        site_now=42,
    )
    decision = refit_with_guard(REFERENCE, SITE, fitter, small_model())
    assert not decision.taken
    assert "ble ikke besvart bedre" in decision.summary()
    assert refit_with_guard(REFERENCE, [], fitter, None).reason == (
        "ingen merkede spørsmål å lære av"
    )


def test_rollback_restores_the_model_before_and_answerers_follow(
    answerer: Answerer, settings: Settings
) -> None:
    models = SiteModels.from_settings(settings)
    site_answerer = Answerer(
        answerer.settings,
        store=answerer.store,
        embedder=answerer.embedder,
        index_refresh_s=0.0,
        site_models=models,
    )
    site_answerer.answer("Hvem deltar på partnerskapsmøtet?")
    # None stored: the shipped choice (hand-set rules here: it was fitted for another model).
    assert site_answerer.answer_model is None

    def site_model(tag: str) -> dict:
        return small_model(site=tag).to_json()

    for tag in ("first", "second"):
        models.record(
            taken=True, summary=tag, labels=1, labels_at=1.0, created_by="U", model=site_model(tag)
        )
    site_answerer.answer("Hvem deltar på partnerskapsmøtet?")
    assert site_answerer.answer_model.info["site"] == "second"

    assert "Gjenopprettet den tilpassede modellen" in restore_previous(settings)
    site_answerer.answer("Hvem deltar på partnerskapsmøtet?")
    assert site_answerer.answer_model.info["site"] == "first"

    assert "fulgte med hfbot svarer igjen" in restore_previous(settings)
    site_answerer.answer("Hvem deltar på partnerskapsmøtet?")
    assert site_answerer.answer_model is None
    models.close()


def test_fit_with_site_labels_runs_the_guard_and_records_the_attempt(
    use_fake_embedder, settings: Settings, tmp_path
) -> None:
    from click.testing import CliRunner

    from hfbot.cli import cli
    from hfbot.settings import BUNDLED_CORPUS

    reference = tmp_path / "ref.yaml"
    reference.write_text(
        yaml.safe_dump(
            [
                {"question": "Hvor mange kommuner er med i helsefellesskapet?",
                 "sources": ["003_539dbae2e487e3f7.txt"], "must": ["21"]},
                {"question": "Hva er KAD-plasser?", "sources": ["004_222ede703e19ef52.txt"],
                 "must": ["døgn"]},
                {"question": "Hvem vant fotballcupen i 2023?", "kind": "unanswerable"},
            ],
            allow_unicode=True,
        ),
        encoding="utf-8",
    )  # fmt: skip
    labels = tmp_path / "labels.yaml"
    labels.write_text(
        yaml.safe_dump(
            [{"question": "Hvem deltar på partnerskapsmøtet?",
              "sources": ["002_8cd09686609c0757.txt"], "must": ["ordførere"]}],
            allow_unicode=True,
        ),
        encoding="utf-8",
    )  # fmt: skip
    runner = CliRunner()
    assert runner.invoke(cli, ["labels", "import", str(labels)]).exit_code == 0
    result = runner.invoke(
        cli,
        ["fit", "--with-site-labels", str(reference), "--folds", "2",
         "--corpus", str(BUNDLED_CORPUS)],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "av 1 merkede spørsmål riktig" in result.output
    attempt = SiteModels.from_settings(settings).latest_attempt()
    assert attempt is not None and attempt.summary in result.output
    assert (attempt.status == "active") == ("Den nye modellen svarer nå" in result.output)


# ---- the folders a refit reads: the ones the shipped model records -----------------------------


@pytest.fixture
def refit_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    folders = reference_folders(tmp_path, monkeypatch)
    settings = load_settings()
    LabelStore.from_settings(settings).add(PARKING_LABEL)
    return {"settings": settings, "info": folders.info, "root": folders.root,
            "shared": folders.shared}  # fmt: skip


def test_a_refit_reads_the_reference_corpora_the_model_file_records(refit_setup: dict) -> None:
    settings = refit_setup["settings"]
    fitter = improving()
    decision = site_model.run_site_refit(
        settings, make_fitter=lambda answerer, folds, sources: fitter
    )
    assert decision.taken, decision.summary()
    assert decision.summary() == "0 → 1 av 1 merkede spørsmål riktig; referansesettene uendret"
    # The reference questions and the site's label were fitted over all three folders together.
    assert "Hvor ofte møtes partnerskapsmøtet?" in fitter.seen[0]
    assert "Hva koster det å parkere?" in fitter.seen[-1]
    models = SiteModels.from_settings(settings)
    active = models.active()
    assert active is not None and active.model_json()["info"]["corpora"] == [
        "corpus",
        str(refit_setup["shared"]),
        str(Path(settings.corpus_dir).resolve()),
    ]
    models.close()


def test_a_refit_whose_reference_folders_are_missing_says_which_and_records_nothing(
    refit_setup: dict,
) -> None:
    settings = refit_setup["settings"]
    shutil.rmtree(refit_setup["shared"])
    fitter = improving()

    def refit() -> site_model.Decision:
        return site_model.run_site_refit(
            settings, make_fitter=lambda answerer, folds, sources: fitter
        )

    decision = refit()
    assert not decision.taken and not decision.tried and fitter.seen == []
    assert decision.summary().startswith(
        "Ikke tatt i bruk: dokumentmappene referansesettene ble tilpasset på finnes ikke på "
        "denne maskinen: ../shared/dev-corpus (søkt fra "
    )
    assert "--corpus" in decision.summary()
    # Not an attempt: the labels stay new, so the Home tab still offers the refit.
    assert SiteModels.from_settings(settings).latest_attempt() is None

    # A model file that names no folders: the reference documents are not found in the site's.
    refit_setup["info"].pop("corpora")
    decision = refit()
    assert not decision.tried and fitter.seen == []
    assert "referansesettenes dokumenter finnes ikke i dokumentmappene (kad.txt, meeting.txt)" in (
        decision.reason
    )

    # Folders given on the command line win over the recorded ones.
    (refit_setup["root"].parent / "elsewhere").mkdir()
    (refit_setup["root"].parent / "elsewhere" / "kad.txt").write_text(KAD, encoding="utf-8")
    decision = site_model.run_site_refit(
        settings,
        corpora=[str(refit_setup["root"] / "corpus"), "elsewhere"],
        make_fitter=lambda answerer, folds, sources: fitter,
    )
    assert decision.taken, decision.summary()
