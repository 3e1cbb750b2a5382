"""Guided remediation: a plan, then a human-in-the-loop flow per member, journaled step by step.

The cloud is reached through the small :class:`RemediationApi` protocol (an adapter over
``scanner.client.RdClient`` is :class:`RdClientApi`), and the operator through the
:class:`Operator` protocol that the CLI implements: this package never prints or prompts.

Per member: (number validated before any call) -> GetAccount (still unbound?) -> confirm y/N ->
Send -> code prompt -> Bind -> GetAccount again; verified only when HasSecureMobilePhone is true.

Modules: ``api`` (the cloud protocol and its RdClient adapter), ``explain`` (what an API
error means and the next step), ``plan`` (plan and preconditions, the dry run), ``flow`` (the
guided flow).
"""

from __future__ import annotations

from .api import (
    BIND,
    GET_ACCOUNT,
    SEND,
    AccountPhone,
    RdClientApi,
    RemediationApi,
    SentCode,
)
from .explain import (
    EXPLANATIONS,
    Explanation,
    explain,
)
from .flow import (
    Event,
    FlowOptions,
    MemberOutcome,
    Operator,
    Remediator,
    Summary,
    expired,
    run_flow,
)
from .plan import (
    ACTIONABLE,
    BAD_PHONE,
    BINDABLE_STATUSES,
    CALLER_OK_TYPES,
    MANUAL,
    NO_PHONE,
    NOT_FAILING,
    CallerCheck,
    DryRun,
    DryRunItem,
    Plan,
    PlanItem,
    build_plan,
    check_caller,
    dry_run,
)

__all__ = [
    "ACTIONABLE",
    "BAD_PHONE",
    "BIND",
    "BINDABLE_STATUSES",
    "CALLER_OK_TYPES",
    "EXPLANATIONS",
    "GET_ACCOUNT",
    "MANUAL",
    "NOT_FAILING",
    "NO_PHONE",
    "SEND",
    "AccountPhone",
    "CallerCheck",
    "DryRun",
    "DryRunItem",
    "Event",
    "Explanation",
    "FlowOptions",
    "MemberOutcome",
    "Operator",
    "Plan",
    "PlanItem",
    "RdClientApi",
    "RemediationApi",
    "Remediator",
    "SentCode",
    "Summary",
    "build_plan",
    "check_caller",
    "dry_run",
    "expired",
    "explain",
    "run_flow",
]
