!> bench_teams -- the processes that run one benchmark together.
!>
!> A driver written against `class(bench_team)` runs the same code in one
!> process (this type: every procedure is the trivial one) and on the ranks of
!> an MPI communicator (bench_mpi_team in fortran/mpi/, an extension built when
!> CMake finds MPI). The team splits the grid's latitude rows into bands,
!> synchronises the steps, combines what the ranks measured and checked, and
!> decides who writes the results.
module bench_teams
  use, intrinsic :: iso_fortran_env, only: real64
  use bench_run, only: bench_settings, bench_finish
  use bench_json, only: json_document
  use bench_timer, only: phase_timer, timer_now
  use bench_check, only: check_log
  implicit none
  private

  !> One process working alone: rank 0 of 1.
  type, public :: bench_team
    integer :: rank = 0               !< this process's rank, 0-based
    integer :: size = 1               !< number of processes
    real(real64) :: started = 0       !< timer_now() at start() (MPI: when MPI_Init returned), s
    integer :: threads = 0            !< intra-op threads of this process (placement)
    integer :: columns = 0            !< grid columns this process computes (set by the driver)
  contains
    procedure :: start => team_start
    procedure :: band => team_band
    procedure :: barrier => team_barrier
    procedure :: max_all => team_max_all
    procedure :: gather_rows => team_gather_rows
    procedure :: placement => team_placement
    procedure :: finish => team_finish
    procedure :: writes => team_writes
  end type bench_team

contains

  !> Start the team (here: note the start time for the start-up measurements).
  subroutine team_start(team)
    class(bench_team), intent(inout) :: team  !< the team
    team%started = timer_now()
  end subroutine team_start

  !> This process's share of `total` rows split into contiguous bands, as MiMA
  !> splits latitudes: the first mod(total, size) ranks get one row more.
  !> count = 0 when there are fewer rows than ranks.
  subroutine team_band(team, total, first, count)
    class(bench_team), intent(in) :: team  !< the team
    integer, intent(in) :: total           !< rows to split, >= 0
    integer, intent(out) :: first          !< first row of this process's band (1-based)
    integer, intent(out) :: count          !< rows in it
    integer :: base, extra
    base = total / team%size
    extra = mod(total, team%size)
    count = base + merge(1, 0, team%rank < extra)
    first = team%rank * base + min(team%rank, extra) + 1
  end subroutine team_band

  !> Wait until every process gets here (a no-op for one process).
  subroutine team_barrier(team)
    class(bench_team), intent(in) :: team  !< the team
    call check_alone(team)
  end subroutine team_barrier

  !> Element-wise maximum of `values` over the processes, on every process.
  function team_max_all(team, values) result(maxima)
    class(bench_team), intent(in) :: team     !< the team
    real(real64), intent(in) :: values(:)     !< this process's values
    real(real64), allocatable :: maxima(:)    !< their maxima over the processes
    call check_alone(team)
    maxima = values
  end function team_max_all

  !> The (lon, lat, lev) field whose latitude rows are split over the processes
  !> (each holding the band of team_band), assembled on the writing process:
  !> `whole` is allocated there (lon, total rows, lev), left unallocated elsewhere.
  subroutine team_gather_rows(team, band, whole)
    class(bench_team), intent(in) :: team                 !< the team
    real(real64), intent(in) :: band(:, :, :)             !< this process's rows
    real(real64), allocatable, intent(out) :: whole(:, :, :)  !< all rows (writer only)
    call check_alone(team)
    whole = band
  end subroutine team_gather_rows

  !> Note that this process runs `threads` intra-op threads; an MPI team also
  !> warns when the ranks' threads oversubscribe the cores (call it once, after
  !> the model is loaded, on every process).
  subroutine team_placement(team, threads)
    class(bench_team), intent(inout) :: team  !< the team
    integer, intent(in) :: threads            !< intra-op threads of this process
    team%threads = threads
  end subroutine team_placement

  !> End the run: bench_finish (summary, results file, exit status 1 when a
  !> check failed).
  subroutine team_finish(team, settings, doc, timer, check)
    class(bench_team), intent(inout) :: team      !< the team
    type(bench_settings), intent(in) :: settings  !< run settings
    type(json_document), intent(inout) :: doc     !< results document (destroyed)
    type(phase_timer), intent(in) :: timer        !< timings
    type(check_log), intent(in) :: check          !< correctness checks
    call check_alone(team)
    call bench_finish(settings, doc, timer, check)
  end subroutine team_finish

  !> True on the process that prints the summary and writes files (rank 0).
  logical function team_writes(team)
    class(bench_team), intent(in) :: team  !< the team
    team_writes = team%rank == 0
  end function team_writes

  !> The procedures of this type serve a team of one; an extension with more
  !> processes must override every one of them that exchanges data.
  subroutine check_alone(team)
    class(bench_team), intent(in) :: team
    if (team%size /= 1) error stop "bench_teams: a procedure of the one-process team was " // &
                                   "called on a team of several"
  end subroutine check_alone

end module bench_teams
