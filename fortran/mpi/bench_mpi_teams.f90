!> bench_mpi_teams -- a bench_team made of the ranks of MPI_COMM_WORLD (mpi_f08).
!>
!> start() calls MPI_Init, notes the time it returned (the origin of every
!> rank's start-up measurements), and installs a stop handler and a message
!> prefix ("rank R of N: ") in coupling_status: any failure on any rank
!> prints that rank's message and ends every rank with MPI_Abort, so no rank
!> waits forever and no results file is written. finish() combines what the
!> ranks measured on rank 0, which writes the results file, and calls
!> MPI_Finalize.
!>
!> Results of an MPI run (docs/mpi.md, docs/results-schema.md):
!>   /phases      per step, the maximum over the ranks of each phase (a coupled
!>                model's step lasts as long as its slowest rank's);
!>   /once        the maximum over the ranks of each once-only phase;
!>   /correctness the largest error ratio over the ranks in each step;
!>   /mpi         ranks, cores, threads, columns and CPUs of every rank, each
!>                phase's per-rank medians with their max, min, mean and
!>                imbalance (max / mean), and each once-only phase per rank.
module bench_mpi_teams
  use, intrinsic :: iso_fortran_env, only: real64, int64, error_unit
  use, intrinsic :: iso_c_binding, only: c_int, c_char, c_null_char
  use mpi_f08, only: MPI_Comm, MPI_COMM_WORLD, MPI_Init, MPI_Initialized, MPI_Finalized, &
                     MPI_Finalize, MPI_Abort, MPI_Comm_rank, MPI_Comm_size, MPI_Barrier, &
                     MPI_Allreduce, MPI_Reduce, MPI_Gather, MPI_Gatherv, MPI_Comm_split_type, &
                     MPI_Comm_free, MPI_COMM_TYPE_SHARED, MPI_INFO_NULL, MPI_DOUBLE_PRECISION, &
                     MPI_INTEGER, MPI_CHARACTER, MPI_MAX, MPI_SUM, MPI_Get_library_version, &
                     MPI_MAX_LIBRARY_VERSION_STRING
  use coupling_status, only: status_set_stop_handler, status_set_message_prefix, status_stop_handler
  use coupling_strings, only: string_from_integer
  use bench_teams, only: bench_team
  use bench_run, only: bench_settings, bench_finish
  use bench_json, only: json_document, json_set, json_destroy
  use bench_timer, only: phase_timer, phase_statistics, timer_now, timer_statistics
  use bench_check, only: check_log
  implicit none
  private

  !> The ranks of MPI_COMM_WORLD as a bench_team.
  type, extends(bench_team), public :: bench_mpi_team
    type(MPI_Comm) :: comm             !< MPI_COMM_WORLD after start()
    integer :: node_ranks = 1          !< ranks on this rank's node
    integer :: node_threads = 0        !< intra-op threads of all ranks on this node
    integer :: cores = 0               !< CPUs online on this node
    character(len=64) :: cpus = ""     !< this rank's affinity mask as a CPU list
  contains
    procedure :: start => world_start
    procedure :: barrier => world_barrier
    procedure :: max_all => world_max_all
    procedure :: gather_rows => world_gather_rows
    procedure :: placement => world_placement
    procedure :: finish => world_finish
  end type bench_mpi_team

  interface
    integer(c_int) function c_online_cpus() bind(C, name="ftb_online_cpus")
      import :: c_int
    end function c_online_cpus
    integer(c_int) function c_allowed_cpus(buffer, length) bind(C, name="ftb_allowed_cpus")
      import :: c_int, c_char
      character(kind=c_char), intent(out) :: buffer(*)
      integer(c_int), value :: length
    end function c_allowed_cpus
  end interface

contains

  !> MPI_Init; rank and size of MPI_COMM_WORLD; the stop handler and message
  !> prefix; the node's cores and this rank's CPUs.
  subroutine world_start(team)
    class(bench_mpi_team), intent(inout) :: team  !< the team
    procedure(status_stop_handler), pointer :: handler
    character(kind=c_char) :: buffer(64)
    integer :: n
    call MPI_Init()
    team%started = timer_now()
    team%comm = MPI_COMM_WORLD
    call MPI_Comm_rank(team%comm, team%rank)
    call MPI_Comm_size(team%comm, team%size)
    handler => end_every_rank
    call status_set_stop_handler(handler)
    call status_set_message_prefix("rank " // string_from_integer(team%rank) // " of " // &
                                   string_from_integer(team%size) // ": ")
    team%cores = c_online_cpus()
    n = c_allowed_cpus(buffer, size(buffer))
    team%cpus = ""
    do n = 1, size(buffer)
      if (buffer(n) == c_null_char) exit
      team%cpus(n:n) = buffer(n)
    end do
  end subroutine world_start

  !> coupling_status's stop handler: exit code 0 finalises MPI on this rank (the
  !> others stop the same way: --help); any other code ends every rank.
  subroutine end_every_rank(code)
    integer, intent(in) :: code  !< exit code about to be used
    logical :: initialized, finalized
    call MPI_Initialized(initialized)
    call MPI_Finalized(finalized)
    if (.not. initialized .or. finalized) return
    if (code == 0) then
      call MPI_Finalize()
    else
      flush (error_unit)
      call MPI_Abort(MPI_COMM_WORLD, code)
    end if
  end subroutine end_every_rank

  subroutine world_barrier(team)
    class(bench_mpi_team), intent(in) :: team  !< the team
    call MPI_Barrier(team%comm)
  end subroutine world_barrier

  function world_max_all(team, values) result(maxima)
    class(bench_mpi_team), intent(in) :: team  !< the team
    real(real64), intent(in) :: values(:)      !< this rank's values
    real(real64), allocatable :: maxima(:)     !< their maxima over the ranks
    allocate (maxima(size(values)))
    call MPI_Allreduce(values, maxima, size(values), MPI_DOUBLE_PRECISION, MPI_MAX, team%comm)
  end function world_max_all

  !> Rank 0 receives every rank's band (in rank order, which is row order) and
  !> assembles the (lon, all rows, lev) field.
  subroutine world_gather_rows(team, band, whole)
    class(bench_mpi_team), intent(in) :: team                  !< the team
    real(real64), intent(in) :: band(:, :, :)                  !< this rank's rows
    real(real64), allocatable, intent(out) :: whole(:, :, :)   !< all rows (rank 0 only)
    real(real64), allocatable :: received(:)
    integer, allocatable :: rows(:), counts(:), offsets(:)
    integer :: r, first
    allocate (rows(team%size), counts(team%size), offsets(team%size))
    call MPI_Gather(size(band, 2), 1, MPI_INTEGER, rows, 1, MPI_INTEGER, 0, team%comm)
    counts = rows * size(band, 1) * size(band, 3)
    offsets = 0
    do r = 2, team%size
      offsets(r) = offsets(r - 1) + counts(r - 1)
    end do
    allocate (received(merge(sum(counts), 0, team%writes())))
    call MPI_Gatherv(reshape(band, [size(band)]), size(band), MPI_DOUBLE_PRECISION, received, &
                     counts, offsets, MPI_DOUBLE_PRECISION, 0, team%comm)
    if (.not. team%writes()) return
    allocate (whole(size(band, 1), sum(rows), size(band, 3)))
    first = 1
    do r = 1, team%size
      whole(:, first:first + rows(r) - 1, :) = reshape(received(offsets(r) + 1:offsets(r) + counts(r)), &
                                                       [size(band, 1), rows(r), size(band, 3)])
      first = first + rows(r)
    end do
  end subroutine world_gather_rows

  !> Sum the intra-op threads of the ranks on each node; when they exceed the
  !> node's cores, rank 0 warns on standard error (the results record it too).
  subroutine world_placement(team, threads)
    class(bench_mpi_team), intent(inout) :: team  !< the team
    integer, intent(in) :: threads                !< intra-op threads of this rank
    type(MPI_Comm) :: node
    integer :: oversubscribed, any_oversubscribed
    team%threads = threads
    call MPI_Comm_split_type(team%comm, MPI_COMM_TYPE_SHARED, team%rank, MPI_INFO_NULL, node)
    call MPI_Comm_size(node, team%node_ranks)
    call MPI_Allreduce(threads, team%node_threads, 1, MPI_INTEGER, MPI_SUM, node)
    call MPI_Comm_free(node)
    oversubscribed = merge(1, 0, team%node_threads > team%cores)
    call MPI_Allreduce(oversubscribed, any_oversubscribed, 1, MPI_INTEGER, MPI_MAX, team%comm)
    if (any_oversubscribed > 0 .and. team%writes()) write (error_unit, '(a)') &
      "warning: oversubscribed: " // string_from_integer(team%node_ranks) // " rank(s) x " // &
      string_from_integer(threads) // " intra-op thread(s) on a node with " // &
      string_from_integer(team%cores) // " cores (give --threads so that ranks x threads " // &
      "<= cores, or run fewer ranks per node); the results record it"
  end subroutine world_placement

  !> Combine on rank 0 (see the module's description), which writes the
  !> results through bench_finish; then MPI_Finalize on every rank. A failed
  !> check on any rank fails the run (exit 1 on every rank, through MPI_Abort).
  subroutine world_finish(team, settings, doc, timer, check)
    class(bench_mpi_team), intent(inout) :: team  !< the team
    type(bench_settings), intent(in) :: settings  !< run settings
    type(json_document), intent(inout) :: doc     !< results document (destroyed)
    type(phase_timer), intent(in) :: timer        !< this rank's timings
    type(check_log), intent(in) :: check          !< this rank's checks
    type(phase_timer) :: slowest
    type(phase_statistics) :: stats
    type(check_log) :: worst
    real(real64), allocatable :: medians(:), all_medians(:, :), all_once(:, :)
    real(real64), allocatable :: step_max(:, :), ratios(:), abs_errors(:)
    integer, allocatable :: all_threads(:), all_columns(:), all_oversubscribed(:)
    character(len=64), allocatable :: all_cpus(:)
    character(len=:), allocatable :: base
    integer :: k, nphases, nonce, n
    nphases = size(timer%names)
    nonce = size(timer%once_seconds)
    allocate (medians(nphases))
    do k = 1, nphases
      stats = timer_statistics(timer, k)
      medians(k) = stats%median
    end do
    n = merge(team%size, 0, team%writes())
    allocate (all_medians(nphases, n), all_once(nonce, n), all_threads(n), all_columns(n), &
              all_cpus(n), all_oversubscribed(n), step_max(size(timer%seconds, 1), nphases), &
              ratios(size(check%ratios)), abs_errors(size(check%abs_errors)))
    call MPI_Reduce(timer%seconds, step_max, size(step_max), MPI_DOUBLE_PRECISION, MPI_MAX, 0, team%comm)
    call MPI_Reduce(check%ratios, ratios, size(ratios), MPI_DOUBLE_PRECISION, MPI_MAX, 0, team%comm)
    call MPI_Reduce(check%abs_errors, abs_errors, size(abs_errors), MPI_DOUBLE_PRECISION, MPI_MAX, &
                    0, team%comm)
    call MPI_Gather(medians, nphases, MPI_DOUBLE_PRECISION, all_medians, nphases, &
                    MPI_DOUBLE_PRECISION, 0, team%comm)
    call MPI_Gather(timer%once_seconds, nonce, MPI_DOUBLE_PRECISION, all_once, nonce, &
                    MPI_DOUBLE_PRECISION, 0, team%comm)
    call MPI_Gather(team%threads, 1, MPI_INTEGER, all_threads, 1, MPI_INTEGER, 0, team%comm)
    call MPI_Gather(team%columns, 1, MPI_INTEGER, all_columns, 1, MPI_INTEGER, 0, team%comm)
    call MPI_Gather(merge(1, 0, team%node_threads > team%cores), 1, MPI_INTEGER, &
                    all_oversubscribed, 1, MPI_INTEGER, 0, team%comm)
    call MPI_Gather(team%cpus, len(team%cpus), MPI_CHARACTER, all_cpus, len(team%cpus), &
                    MPI_CHARACTER, 0, team%comm)
    if (team%writes()) then
      call json_set(doc, "/mpi/ranks", team%size)
      call json_set(doc, "/mpi/library", library_version())
      call json_set(doc, "/mpi/cores_per_node", team%cores)
      call json_set(doc, "/mpi/ranks_on_rank0_node", team%node_ranks)
      call json_set(doc, "/mpi/oversubscribed", any(all_oversubscribed > 0))
      call json_set(doc, "/mpi/threads_per_rank", int(all_threads, int64))
      call json_set(doc, "/mpi/columns_per_rank", int(all_columns, int64))
      call json_set(doc, "/mpi/cpus_per_rank", all_cpus)
      call json_set(doc, "/mpi/step_time", "per step, the maximum over the ranks of each phase")
      do k = 1, nphases
        base = "/mpi/phases/" // trim(timer%names(k))
        call json_set(doc, base // "/per_rank_median", all_medians(k, :))
        call record_spread(base, all_medians(k, :))
      end do
      do k = 1, nonce
        base = "/mpi/once/" // trim(timer%once_names(k))
        call json_set(doc, base // "/per_rank", all_once(k, :))
        call record_spread(base, all_once(k, :))
      end do
      slowest = timer
      slowest%seconds = step_max
      slowest%once_seconds = maxval(all_once, dim=2)
      worst = check
      worst%ratios = ratios
      worst%abs_errors = abs_errors
      worst%failed = count(.not. ratios <= 1)  ! NaN counts as failed
      call bench_finish(settings, doc, slowest, worst)
    else
      call json_destroy(doc)
    end if
    call MPI_Finalize()

  contains

    subroutine record_spread(path, values)
      character(len=*), intent(in) :: path
      real(real64), intent(in) :: values(:)
      real(real64) :: mean
      mean = sum(values) / size(values)
      call json_set(doc, path // "/max", maxval(values))
      call json_set(doc, path // "/min", minval(values))
      call json_set(doc, path // "/mean", mean)
      call json_set(doc, path // "/imbalance", merge(maxval(values) / mean, 1.0_real64, mean > 0))
    end subroutine record_spread

  end subroutine world_finish

  !> MPI_Get_library_version's text, first line.
  function library_version() result(text)
    character(len=:), allocatable :: text
    character(len=MPI_MAX_LIBRARY_VERSION_STRING) :: buffer
    integer :: length, newline
    call MPI_Get_library_version(buffer, length)
    text = buffer(1:length)
    newline = index(text, new_line("a"))
    if (newline > 0) text = text(1:newline - 1)
    text = trim(text)
  end function library_version

end module bench_mpi_teams
