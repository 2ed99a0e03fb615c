"""Review-status rules as the tool checks them before sending."""

import pytest

from bulk_update import fields as catalog
from bulk_update import review as locks


def test_lock_lists_name_real_catalog_fields():
    keys = {f.key for f in catalog.load().fields}
    assert keys >= locks.ACTION_REQUIRED_OPEN
    assert keys >= locks.APPROVED_LOCKED


@pytest.mark.parametrize("status", ["Submitted", "In review", "Rejected"])
def test_statuses_under_review_refuse_everything(status):
    verdict = locks.check(status, {"LifeCycle.NextSteps"})
    assert not verdict.allowed
    assert status in verdict.message


def test_action_required_allows_only_its_open_fields():
    assert locks.check("Action Required", {"Customer.Account.WebsiteUrl"}).allowed
    verdict = locks.check("Action Required", {"Customer.Account.WebsiteUrl", "LifeCycle.Stage"})
    assert not verdict.allowed and verdict.fields == ("LifeCycle.Stage",)


def test_approved_refuses_its_locked_fields_only():
    assert locks.check("Approved", {"LifeCycle.Stage"}).allowed
    verdict = locks.check("Approved", {"Project.Title", "LifeCycle.Stage"})
    assert not verdict.allowed and verdict.fields == ("Project.Title",)


def test_pending_submission_is_editable():
    assert locks.check("Pending Submission", {"Project.Title"}).allowed
    assert locks.check(None, {"Project.Title"}).allowed
