import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DirectoryTestRequest(_message.Message):
    __slots__ = ("source",)
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    source: str
    def __init__(self, source: _Optional[str] = ...) -> None: ...

class DirectorySourceTest(_message.Message):
    __slots__ = ("source", "ok", "server", "vendor", "active_directory", "paged_results", "users", "groups", "nested_mode", "message")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    SERVER_FIELD_NUMBER: _ClassVar[int]
    VENDOR_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_DIRECTORY_FIELD_NUMBER: _ClassVar[int]
    PAGED_RESULTS_FIELD_NUMBER: _ClassVar[int]
    USERS_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    NESTED_MODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    source: str
    ok: bool
    server: str
    vendor: str
    active_directory: bool
    paged_results: bool
    users: int
    groups: int
    nested_mode: str
    message: str
    def __init__(self, source: _Optional[str] = ..., ok: _Optional[bool] = ..., server: _Optional[str] = ..., vendor: _Optional[str] = ..., active_directory: _Optional[bool] = ..., paged_results: _Optional[bool] = ..., users: _Optional[int] = ..., groups: _Optional[int] = ..., nested_mode: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class DirectoryTestResponse(_message.Message):
    __slots__ = ("sources",)
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    sources: _containers.RepeatedCompositeFieldContainer[DirectorySourceTest]
    def __init__(self, sources: _Optional[_Iterable[_Union[DirectorySourceTest, _Mapping]]] = ...) -> None: ...

class DirectorySyncRequest(_message.Message):
    __slots__ = ("source", "dry_run", "force")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    source: str
    dry_run: bool
    force: bool
    def __init__(self, source: _Optional[str] = ..., dry_run: _Optional[bool] = ..., force: _Optional[bool] = ...) -> None: ...

class DirectoryChange(_message.Message):
    __slots__ = ("action", "username", "detail")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    action: str
    username: str
    detail: str
    def __init__(self, action: _Optional[str] = ..., username: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class DirectorySyncSummary(_message.Message):
    __slots__ = ("source", "outcome", "server", "counts", "would_refuse")
    class CountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    SERVER_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    WOULD_REFUSE_FIELD_NUMBER: _ClassVar[int]
    source: str
    outcome: str
    server: str
    counts: _containers.ScalarMap[str, int]
    would_refuse: str
    def __init__(self, source: _Optional[str] = ..., outcome: _Optional[str] = ..., server: _Optional[str] = ..., counts: _Optional[_Mapping[str, int]] = ..., would_refuse: _Optional[str] = ...) -> None: ...

class DirectorySyncEvent(_message.Message):
    __slots__ = ("change", "summary")
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    change: DirectoryChange
    summary: DirectorySyncSummary
    def __init__(self, change: _Optional[_Union[DirectoryChange, _Mapping]] = ..., summary: _Optional[_Union[DirectorySyncSummary, _Mapping]] = ...) -> None: ...

class DirectoryStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DirectoryRun(_message.Message):
    __slots__ = ("started", "finished", "outcome", "forced", "server", "counts", "message")
    class CountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    STARTED_FIELD_NUMBER: _ClassVar[int]
    FINISHED_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    FORCED_FIELD_NUMBER: _ClassVar[int]
    SERVER_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    started: _timestamp_pb2.Timestamp
    finished: _timestamp_pb2.Timestamp
    outcome: str
    forced: bool
    server: str
    counts: _containers.ScalarMap[str, int]
    message: str
    def __init__(self, started: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., outcome: _Optional[str] = ..., forced: _Optional[bool] = ..., server: _Optional[str] = ..., counts: _Optional[_Mapping[str, int]] = ..., message: _Optional[str] = ...) -> None: ...

class DirectorySourceStatus(_message.Message):
    __slots__ = ("source", "servers", "active_users", "disabled_users", "runs", "next_run")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SERVERS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_USERS_FIELD_NUMBER: _ClassVar[int]
    DISABLED_USERS_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_RUN_FIELD_NUMBER: _ClassVar[int]
    source: str
    servers: _containers.RepeatedScalarFieldContainer[str]
    active_users: int
    disabled_users: int
    runs: _containers.RepeatedCompositeFieldContainer[DirectoryRun]
    next_run: _timestamp_pb2.Timestamp
    def __init__(self, source: _Optional[str] = ..., servers: _Optional[_Iterable[str]] = ..., active_users: _Optional[int] = ..., disabled_users: _Optional[int] = ..., runs: _Optional[_Iterable[_Union[DirectoryRun, _Mapping]]] = ..., next_run: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DirectoryStatusResponse(_message.Message):
    __slots__ = ("sources",)
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    sources: _containers.RepeatedCompositeFieldContainer[DirectorySourceStatus]
    def __init__(self, sources: _Optional[_Iterable[_Union[DirectorySourceStatus, _Mapping]]] = ...) -> None: ...
