"""The embedded default's broker: kombu's ``filesystem://`` transport, safe for many processes.

kombu's own transport writes a message in place, in the queue folder, where a worker polling
the folder may take it half-written (the worker then died of a JSONDecodeError, and
``make run`` with it); and a worker takes a message by moving it out of the folder, so one
killed before it acknowledged the task loses it. ``config/celery_app.py`` points the
``filesystem`` transport name at this one instead, so ``filesystem://`` means:

- **a message appears whole or not at all**: it is written to ``.drafts/`` beside the queue
  and renamed into the queue folder (a rename within one file system is atomic);
- **a taken message is kept until it is settled**: a reader takes one by renaming it into a
  folder of its own under ``.taken/`` (of two readers, one wins), and deletes it when the task
  is acknowledged or rejected, or puts it back when kombu gives it back (requeue, shutdown);
- **a dead reader's messages come back**: each process holds a lock on its ``.taken/`` folder
  for as long as it lives (a POSIX record lock: the kernel drops it when the process dies,
  even by SIGKILL, and a forked child does not hold it). A folder nobody holds belongs to a
  process that ended: the first reader that finds it (at its first poll, then every
  ``RECOVER_SECONDS``) moves its messages back into the queue, at their place in the order.
  A task a killed worker had started runs again: at least once, as ``acks_late`` means;
- **an unreadable file never stops a worker**: it is moved to ``.unreadable/`` and logged.

Messages taken without acknowledgement (``no_ack``: remote control broadcasts and replies) are
deleted when read, as before: given back after a restart they would replay old commands.
"""

from __future__ import annotations

import fcntl
import itertools
import logging
import os
import shutil
import socket
import threading
import time
import uuid
from pathlib import Path
from queue import Empty

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

DRAFTS = ".drafts"
TAKEN = ".taken"
UNREADABLE = ".unreadable"
OWNER_LOCK = ".owner"
RECOVER_SECONDS = 10.0


class _Reader:
    """This process's folder of taken messages in one queue folder, and the lock that says the
    process is alive. Made at the process's first take, under a dot name that no recovery
    looks at, locked, then renamed into place."""

    def __init__(self, queue_folder: Path) -> None:
        self.pid = os.getpid()
        self.queue_folder = queue_folder
        self.root = queue_folder / TAKEN
        self.root.mkdir(mode=0o700, exist_ok=True)
        name = f"{socket.gethostname()}-{self.pid}-{uuid.uuid4().hex[:8]}"
        draft = self.root / f".new-{name}"
        draft.mkdir(mode=0o700)
        self._lock_fd = os.open(draft / OWNER_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.lockf(self._lock_fd, fcntl.LOCK_EX)  # held until this process ends
        self.folder = self.root / name
        os.rename(draft, self.folder)
        self.held: dict[str, Path] = {}  # delivery tag -> the taken file
        self.lock = threading.Lock()
        self._next_recovery = 0.0

    def hold(self, delivery_tag: str, path: Path) -> None:
        with self.lock:
            self.held[delivery_tag] = path

    def release(self, delivery_tag: str, processed_folder: str | None = None) -> None:
        """The message is settled (acknowledged, rejected, or put back by kombu): drop our copy."""
        with self.lock:
            path = self.held.pop(delivery_tag, None)
        if path is None:
            return
        try:
            if processed_folder:
                shutil.move(path, processed_folder)
            else:
                path.unlink()
        except OSError:
            pass  # already gone

    def recover_if_due(self) -> None:
        now = time.monotonic()
        if now < self._next_recovery:
            return
        self._next_recovery = now + RECOVER_SECONDS
        recover(self.queue_folder, skip=self.folder)


def recover(queue_folder: Path, skip: Path | None = None) -> int:
    """Put back into the queue every message taken by a process that has ended; how many."""
    root = queue_folder / TAKEN
    try:
        entries = [e for e in os.scandir(root) if e.is_dir() and not e.name.startswith(".")]
    except FileNotFoundError:
        return 0
    moved = 0
    for entry in entries:
        folder = Path(entry.path)
        if folder != skip:
            moved += _recover_folder(folder, queue_folder)
    return moved


def _recover_folder(folder: Path, queue_folder: Path) -> int:
    try:
        fd = os.open(folder / OWNER_LOCK, os.O_RDWR)
    except OSError:  # being recovered by another process right now
        return 0
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # its process is alive
            return 0
        moved = 0
        for name in os.listdir(folder):
            if name.endswith(".msg"):
                try:
                    os.rename(folder / name, queue_folder / name)
                    moved += 1
                except OSError:
                    pass
        if moved:
            logger.warning("broker: %d message(s) taken by a process that ended (%s) are queued again",
                           moved, folder.name)
        (folder / OWNER_LOCK).unlink(missing_ok=True)
        try:
            folder.rmdir()
        except OSError:
            pass
        return moved
    finally:
        os.close(fd)


_readers: dict[str, _Reader] = {}
_readers_lock = threading.Lock()


def _reader(queue_folder: str) -> _Reader:
    with _readers_lock:
        reader = _readers.get(queue_folder)
        if reader is None or reader.pid != os.getpid():  # none yet, or a forked child's copy
            reader = _readers[queue_folder] = _Reader(Path(queue_folder))
        return reader



_sequence = itertools.count()


def _order_key() -> str:
    """The start of a message's file name: readers take the smallest first. kombu's own is the
    monotonic clock in milliseconds, unpadded: two messages of one millisecond come out in
    random order, and "10000000" sorts before "9999999" (an uptime of 2.8 hours). Here: the
    wall clock in nanoseconds and this process's count, both zero-padded, so that names sort
    as they were written, within a process always and across processes by the clock."""
    return f"{time.time_ns():020d}-{next(_sequence) % 10**9:09d}"

class Channel(filesystem.Channel):
    """kombu's filesystem channel with atomic writes and taken messages kept until settled."""

    _no_ack_queues: frozenset[str] = frozenset()
    _getting_without_ack = False

    def _put(self, queue, payload, **kwargs):
        """Write the message in full beside the queue, then rename it in."""
        name = f"{_order_key()}_{uuid.uuid4()}.{queue}.msg"
        folder = Path(self.data_folder_out)
        draft = folder / DRAFTS / name
        try:
            draft.parent.mkdir(mode=0o700, exist_ok=True)
            with open(draft, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.rename(draft, folder / name)
        except OSError as exc:
            draft.unlink(missing_ok=True)
            raise ChannelError(f"Cannot add file {name!r} to directory") from exc

    def _get(self, queue):
        """Take the oldest message of ``queue``: renamed into this process's folder, so no other
        reader has it, and kept there until it is settled."""
        folder = Path(self.data_folder_in)
        reader = _reader(str(folder))
        reader.recover_if_due()
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(folder)):
            if name.partition(".")[2] != wanted:
                continue
            taken = reader.folder / name
            try:
                os.rename(folder / name, taken)
            except OSError:  # another reader took it first
                continue
            try:
                payload = loads(bytes_to_str(taken.read_bytes()))
                delivery_tag = payload["properties"]["delivery_tag"]
            except OSError as exc:
                raise ChannelError(f"Cannot read file {name!r} from queue.") from exc
            except Exception:  # not a message (written by something else): set aside, go on
                logger.exception("broker: %s is not a readable message; moved to %s", name, UNREADABLE)
                _set_aside(taken, folder)
                continue
            if self._getting_without_ack or queue in self._no_ack_queues:
                taken.unlink(missing_ok=True)
            else:
                reader.hold(delivery_tag, taken)
            return payload
        raise Empty()

    def basic_consume(self, queue, no_ack, callback, consumer_tag, **kwargs):
        if no_ack:
            self._no_ack_queues = self._no_ack_queues | {queue}
        return super().basic_consume(queue, no_ack, callback, consumer_tag, **kwargs)

    def basic_cancel(self, consumer_tag):
        queue = self._tag_to_queue.get(consumer_tag)
        result = super().basic_cancel(consumer_tag)
        if queue is not None and queue not in self._active_queues:
            self._no_ack_queues = self._no_ack_queues - {queue}
        return result

    def basic_get(self, queue, no_ack=False, **kwargs):
        self._getting_without_ack = no_ack
        try:
            return super().basic_get(queue, no_ack=no_ack, **kwargs)
        finally:
            self._getting_without_ack = False

    def basic_ack(self, delivery_tag, multiple=False):
        result = super().basic_ack(delivery_tag, multiple=multiple)
        self._release(delivery_tag)
        return result

    def basic_reject(self, delivery_tag, requeue=False):
        result = super().basic_reject(delivery_tag, requeue=requeue)  # requeue: _restore put it back
        self._release(delivery_tag)
        return result

    def _restore(self, message):
        super()._restore(message)  # written to the queue again (a new file)
        self._release(message.delivery_tag)

    def _release(self, delivery_tag):
        reader = _readers.get(str(Path(self.data_folder_in)))
        if reader is not None and reader.pid == os.getpid():  # else this process took nothing
            reader.release(delivery_tag, self.processed_folder if self.store_processed else None)


def _set_aside(path: Path, queue_folder: Path) -> None:
    aside = queue_folder / UNREADABLE
    try:
        aside.mkdir(mode=0o700, exist_ok=True)
        os.rename(path, aside / path.name)
    except OSError:
        path.unlink(missing_ok=True)


class Transport(filesystem.Transport):
    Channel = Channel
