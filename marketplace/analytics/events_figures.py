"""The matchmaking events' figures: the period's events, who took part, and how their meeting
requests went (accepted, scheduled, held) and what came of the meetings (match requests, then
agreements). Events are few (some a year, some hundreds of meetings each), so these read the live
tables, as the beds and the trial centres do, in a handful of aggregates.

Definitions (the dashboard shows them too):
- an event belongs to the period it starts in (drafts and cancelled events are not counted); held
  means under way or closed; its requests and meetings follow it;
- scheduled: a meeting given a slot and a table (placed, confirmed, held, or missed after being
  confirmed); a match request: one opened from a meeting's outcome; an agreement: that request
  reached `agreed`, or a licensing agreement was drafted from it (the deals' rule);
- an institution's figures (a TTO's dashboard, or the institution filter): the events it organized
  or registered at, its own registration and those at the events it organized, and the meeting
  requests and meetings it is a side of; a city: the events an institution of that city registered
  at (all their registrations), and the requests and meetings of that city's institutions; a
  therapeutic area: events of that theme. The listing kind does not apply to events.
"""

from __future__ import annotations

from typing import Any

from marketplace.analytics.queries import Queries, rate
from marketplace.analytics.schemas import EventFigures, KeyCount, Step

EVENT_STEPS = ("requested", "accepted", "scheduled", "held", "match_request", "agreement")
SCHEDULED_STATES = ["placed", "confirmed", "held", "missed"]
HELD_EVENT_STATES = ["running", "closed"]
PARTICIPANT_KINDS = ("institution", "company")


class EventQueries(Queries):
    def _events(self) -> tuple[str, dict[str, Any]]:
        """The period's events (an SQL condition on `e`) under the filter."""
        conditions = ["e.starts_on BETWEEN :start AND :end", "e.state NOT IN ('draft', 'cancelled')"]
        params: dict[str, Any] = {"start": self.where.start, "end": self.where.end}
        if self.where.area is not None:
            conditions.append(":area = ANY(e.areas)")
            params["area"] = self.where.area
        if self.where.institution_id is not None:
            conditions.append(
                "(e.organizer_id = :institution_id OR EXISTS (SELECT 1 FROM event_registrations g"
                " WHERE g.event_id = e.id AND g.organization_id = :institution_id AND g.state = 'registered'))"
            )
            params["institution_id"] = self.where.institution_id
        if self.where.city is not None:
            conditions.append(
                "EXISTS (SELECT 1 FROM event_registrations g JOIN organizations o ON o.id = g.organization_id"
                " WHERE g.event_id = e.id AND g.organization_kind = 'institution' AND g.state = 'registered' AND o.city = :city)"
            )
            params["city"] = self.where.city
        return " AND ".join(conditions), params

    async def events(self) -> EventFigures:
        cohort, params = self._events()
        held = await self._one(
            f"SELECT count(*), count(*) FILTER (WHERE e.state = ANY(:held)) FROM events e WHERE {cohort}",
            **params,
            held=HELD_EVENT_STATES,
        )
        own = ""
        if self.where.institution_id is not None:
            own = " AND (r.organization_id = :institution_id OR e.organizer_id = :institution_id)"
        participants = dict(
            await self._all(
                "SELECT r.organization_kind, count(*) FROM event_registrations r JOIN events e ON e.id = r.event_id"
                f" WHERE r.state = 'registered' AND {cohort}{own} GROUP BY r.organization_kind",
                **params,
            )
        )
        # The institution side of a request or meeting carries the institution and city filters.
        side = ""
        if self.where.institution_id is not None:
            side += " AND q.institution_id = :institution_id"
        if self.where.city is not None:
            side += " AND o.city = :city"
        counts = await self._one(
            "SELECT count(q.id), count(m.id), count(m.id) FILTER (WHERE m.state = ANY(:scheduled)),"
            " count(m.id) FILTER (WHERE m.state = 'held'), count(m.match_request_id),"
            " count(m.match_request_id) FILTER (WHERE mr.state = 'agreed' OR EXISTS"
            "  (SELECT 1 FROM licensing_agreements a WHERE a.match_request_id = mr.id))"
            " FROM event_meeting_requests q JOIN events e ON e.id = q.event_id"
            " JOIN organizations o ON o.id = q.institution_id"
            " LEFT JOIN event_meetings m ON m.meeting_request_id = q.id"
            " LEFT JOIN match_requests mr ON mr.id = m.match_request_id"
            f" WHERE {cohort}{side}",
            **params,
            scheduled=SCHEDULED_STATES,
        )
        steps = [
            Step(step=name, count=count, conversion_bp=None if i == 0 else rate(count, counts[i - 1]).rate_bp)
            for i, (name, count) in enumerate(zip(EVENT_STEPS, counts, strict=True))
        ]
        return EventFigures(
            period=self.where.period,
            events=held[0],
            events_held=held[1],
            participants=[KeyCount(key=kind, count=participants.get(kind, 0)) for kind in PARTICIPANT_KINDS],
            steps=steps,
        )
