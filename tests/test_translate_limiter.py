"""The LLM client's limiter: a freed slot wakes the one waiter it goes to, in priority
order, and a cancelled waiter neither keeps a slot nor holds up the next in line.

Work is counted, not timed: the event loop below counts the callbacks it is asked to run
(every task step, every future's callback), which is what waking a waiter costs."""

from __future__ import annotations

import asyncio

from digest_cli.translate.llm import AdaptiveLimiter


class CountingLoop(asyncio.SelectorEventLoop):
    """An event loop that counts the callbacks scheduled on it."""

    scheduled = 0

    def call_soon(self, callback, *args, context=None):
        self.scheduled += 1
        return super().call_soon(callback, *args, context=context)


def run_counted(scenario) -> tuple[object, int]:
    """(what `scenario()` returned, the callbacks the loop ran for it)."""
    loop = CountingLoop()
    try:
        return loop.run_until_complete(scenario()), loop.scheduled
    finally:
        loop.close()


def day_of_requests(requests: int, ceiling: int = 8) -> tuple[AdaptiveLimiter, int]:
    """`requests` requests queued at once, as a day's papers are, each holding its slot
    over a few steps of the loop as an answer would."""
    limiter = AdaptiveLimiter(ceiling)

    async def request(i: int) -> None:
        async with limiter.slot(priority=i // 3):  # a paper's 3 requests share a priority
            for _ in range(3):
                await asyncio.sleep(0)

    async def scenario() -> None:
        await asyncio.gather(*(request(i) for i in range(requests)))
    _, scheduled = run_counted(scenario)
    assert limiter.in_flight == 0
    return limiter, scheduled


def test_the_work_of_waking_waiters_grows_linearly_with_the_requests():
    # With one condition notified on every acquire and release, each of them woke every
    # waiter: 2,400 requests made 3.9 million wake-ups. Now a slot wakes one waiter.
    small, small_work = day_of_requests(300)
    big, big_work = day_of_requests(1200)
    assert small.grants == 300 and big.grants == 1200  # one hand-over per request
    assert big_work < 4.5 * small_work  # 4x the requests: 4x the work, not 16x
    assert big_work < 15 * 1200  # a few callbacks per request, whatever the queue


def test_a_waiter_cancelled_in_the_queue_keeps_no_slot_and_blocks_no_one():
    async def scenario():
        limiter = AdaptiveLimiter(1)
        order = []

        async def worker(name, priority):
            async with limiter.slot(priority):
                order.append(name)
        async with limiter.slot():
            first = asyncio.create_task(worker("first", 1))
            second = asyncio.create_task(worker("second", 2))
            await asyncio.sleep(0)  # both queued
            first.cancel()
            await asyncio.sleep(0)
        await asyncio.gather(second, first, return_exceptions=True)
        return order, limiter.in_flight, first.cancelled()
    assert asyncio.run(scenario()) == (["second"], 0, True)


def test_a_waiter_cancelled_after_its_turn_came_gives_the_slot_back():
    # The slot was handed over (its future done) but the task was cancelled before it
    # ran: the slot must go to the next in line, not be lost.
    async def scenario():
        limiter = AdaptiveLimiter(1)
        order = []

        async def worker(name, priority):
            async with limiter.slot(priority):
                order.append(name)
        held = limiter.slot()
        await held.__aenter__()
        first = asyncio.create_task(worker("first", 1))
        second = asyncio.create_task(worker("second", 2))
        await asyncio.sleep(0)  # both queued
        await held.__aexit__(None, None, None)  # hands the slot to `first`...
        assert limiter.in_flight == 1 and not first.done()
        first.cancel()  # ...which is cancelled before it runs
        await asyncio.gather(second, first, return_exceptions=True)
        return order, limiter.in_flight, first.cancelled(), limiter.grants
    assert asyncio.run(scenario()) == (["second"], 0, True, 3)


def test_a_slot_freed_by_a_higher_limit_goes_to_the_next_waiter():
    async def scenario():
        limiter = AdaptiveLimiter(2)
        async with limiter.slot() as epoch:
            limiter.overloaded(epoch)  # limit 1: the next request queues
        gate = asyncio.Event()

        async def holder():
            async with limiter.slot():
                await gate.wait()
        first = asyncio.create_task(holder())
        second = asyncio.create_task(holder())
        await asyncio.sleep(0)
        assert limiter.in_flight == 1
        for _ in range(3):
            limiter.succeeded()  # limit back to 2: the waiter goes in without a release
        await asyncio.sleep(0)
        in_flight = limiter.in_flight
        gate.set()
        await asyncio.gather(first, second)
        return in_flight, limiter.in_flight
    assert asyncio.run(scenario()) == (2, 0)
