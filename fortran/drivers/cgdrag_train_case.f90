!> cgdrag_train_case -- what the online-training drivers of both coupling paths
!> share (benchmarker_cgdrag_train_torch, benchmarker_cgdrag_train_forpy): the
!> phases, the sample of columns, the reference losses and the check.
!>
!> One step (docs/training.md; the definition every path follows is
!> python/src/ftbench/training.py with the numbers of checks.json):
!>   inference         wrap the whole grid's arrays, two forwards (both wind
!>                     components, as cgdrag), release the wrappers;
!>   sample            gather every sample_stride-th column (from column 1) of
!>                     uuu, lat and psfc, and target = target_scale x gwfu_ref
!>                     there, into (nsample, ...) arrays, and wrap them;
!>   training forward  forward with autograd on the sample;
!>   loss              MSE against the target, its value read;
!>   backward          gradients of the parameters and of the sample's wind;
!>   optimiser step    Adam step, then the gradients cleared;
!>   gradient read     d loss / d wind in the Fortran array `gradient`, and the
!>                     step's tensors released (direct path: backward already
!>                     wrote it there, no copy);
!>   loop              the whole step (the check excluded).
!> Check, every step: the training loss and the loss of the inference's drag on
!> the sample (both from the weights before the step's update) against the
!> native Python reference loss of that step (train_loss_ref, written by
!> `ftbench inputs`), rtol cgdrag_train_rtol.
module cgdrag_train_case
  use, intrinsic :: iso_fortran_env, only: real64
  use bench_npy, only: npy_shape, npy_read
  use coupling_strings, only: string_from_integer
  use bench_run, only: bench_fail
  use bench_check, only: check_log, check_create, check_compare
  use bench_json, only: json_document, json_set
  use bench_tolerances, only: cgdrag_train_rtol, cgdrag_train_learning_rate, &
                              cgdrag_train_sample_stride, cgdrag_train_target_scale
  use cgdrag_case, only: cgdrag_data, dp, nlon, nlev
  implicit none
  private

  public :: train_sample, train_sample_create, train_sample_pack, train_references
  public :: train_check_create, train_compare, train_describe, train_record_losses

  character(len=16), parameter, public :: train_phase_names(8) = [character(len=16) :: &
    "inference", "sample", "training forward", "loss", "backward", "optimiser step", &
    "gradient read", "loop"]
  integer, parameter, public :: t_inference = 1, t_sample = 2, t_forward = 3, t_loss = 4, &
                                t_backward = 5, t_step = 6, t_gradient = 7, t_loop = 8

  !> The training sample: every sample_stride-th column of the grid, from column 1.
  type :: train_sample
    integer :: n = 0                           !< columns in the sample
    integer, allocatable :: columns(:)         !< their Fortran column numbers (1-based)
    real(dp), allocatable :: wind(:, :)        !< zonal wind (n, 40), m/s
    real(dp), allocatable :: lat(:, :)         !< latitude (n, 1), degrees
    real(dp), allocatable :: psfc(:, :)        !< surface pressure (n, 1), Pa
    real(dp), allocatable :: target(:, :)      !< target_scale x reference drag (n, 40), m/s^2
    real(dp), allocatable :: gradient(:, :)    !< d loss / d wind (n, 40), written each step
  end type train_sample

contains

  !> Allocate the sample of a grid of `ncol` columns.
  subroutine train_sample_create(sample, ncol)
    type(train_sample), intent(out) :: sample  !< new sample
    integer, intent(in) :: ncol                !< columns of the grid
    integer :: k
    sample%n = (ncol - 1) / cgdrag_train_sample_stride + 1
    sample%columns = [(1 + (k - 1) * cgdrag_train_sample_stride, k = 1, sample%n)]
    allocate (sample%wind(sample%n, nlev), sample%lat(sample%n, 1), sample%psfc(sample%n, 1), &
              sample%target(sample%n, nlev), sample%gradient(sample%n, nlev))
    sample%gradient = 0
  end subroutine train_sample_create

  !> Gather the sample's inputs and target from the grid (the timed "sample" work).
  subroutine train_sample_pack(sample, data)
    type(train_sample), intent(inout) :: sample  !< sample to fill
    type(cgdrag_data), intent(in) :: data        !< the grid's fields and references
    integer :: k, i, j
    do k = 1, sample%n
      i = mod(sample%columns(k) - 1, nlon) + 1
      j = (sample%columns(k) - 1) / nlon + 1
      sample%wind(k, :) = data%uuu(i, j, :)
      sample%lat(k, 1) = data%lat(i, j)
      sample%psfc(k, 1) = data%psfc(i, j)
      sample%target(k, :) = cgdrag_train_target_scale * data%gwfu_ref(i, j, :)
    end do
  end subroutine train_sample_pack

  !> The reference losses (train_loss_ref.npy in the inputs' directory); stops
  !> with one line when they are missing or fewer than `steps`.
  function train_references(path, steps) result(losses)
    character(len=*), intent(in) :: path  !< directory of `ftbench inputs`
    integer, intent(in) :: steps          !< steps to check, warm-up included
    real(dp), allocatable :: losses(:)    !< reference loss of each step
    integer, allocatable :: extents(:)
    integer :: stat
    character(len=1024) :: message
    character(len=*), parameter :: hint = "(rewrite it with `ftbench inputs`)"
    allocate (losses(0))
    call npy_shape(path // "/train_loss_ref.npy", extents, stat, message)
    if (stat == 0 .and. size(extents) /= 1) then
      stat = 1
      message = "'" // path // "/train_loss_ref.npy' is not one-dimensional"
    end if
    if (stat /= 0) call bench_fail("cgdrag_train: " // trim(message), hint)
    deallocate (losses)
    allocate (losses(extents(1)))
    call npy_read(path // "/train_loss_ref.npy", losses, extents, stat=stat, errmsg=message)
    if (stat /= 0) call bench_fail("cgdrag_train: " // trim(message), hint)
    if (steps > size(losses)) call bench_fail("cgdrag_train: '" // path // "' has reference losses for " // &
      string_from_integer(size(losses)) // " steps, the run asks for " // string_from_integer(steps) // &
      " (warm-up included)", "(run fewer steps)")
  end function train_references

  !> Start the log of the loss checks.
  subroutine train_check_create(check, ntimes, warmup)
    type(check_log), intent(out) :: check  !< new log
    integer, intent(in) :: ntimes          !< measured steps
    integer, intent(in) :: warmup          !< warm-up steps
    call check_create(check, ntimes, warmup, "loss of each training step (and the same loss " // &
                      "from the inference's drag on the sample) against the native Python " // &
                      "reference losses of `ftbench inputs`", cgdrag_train_rtol, 0.0_real64)
  end subroutine train_check_create

  !> Compare step `iteration`'s training loss, and the loss of the inference's
  !> drag `gwfu` (lon, lat, lev) on the sample, with the reference loss.
  subroutine train_compare(check, iteration, reference, loss, gwfu, sample)
    type(check_log), intent(inout) :: check   !< log (then check_record decides the step)
    integer, intent(in) :: iteration          !< 1 .. warmup + ntimes
    real(dp), intent(in) :: reference         !< reference loss of this step
    real(dp), intent(in) :: loss              !< the training loss
    real(dp), intent(in) :: gwfu(:, :, :)     !< the inference's drag from uuu
    type(train_sample), intent(in) :: sample  !< sample (its columns and target)
    real(dp) :: total
    integer :: k, i, j
    total = 0
    do k = 1, sample%n
      i = mod(sample%columns(k) - 1, nlon) + 1
      j = (sample%columns(k) - 1) / nlon + 1
      total = total + sum((gwfu(i, j, :) - sample%target(k, :))**2)
    end do
    call check_compare(check, iteration, "loss", [loss], [reference])
    call check_compare(check, iteration, "inference loss", [total / (sample%n * nlev)], [reference])
  end subroutine train_compare

  !> The training settings and sizes, into the results document.
  subroutine train_describe(doc, sample)
    type(json_document), intent(in) :: doc    !< results document
    type(train_sample), intent(in) :: sample  !< the sample
    call json_set(doc, "/sizes/training_columns", sample%n)
    call json_set(doc, "/training/optimizer", "adam")
    call json_set(doc, "/training/learning_rate", cgdrag_train_learning_rate)
    call json_set(doc, "/training/sample_stride", cgdrag_train_sample_stride)
    call json_set(doc, "/training/target_scale", cgdrag_train_target_scale)
  end subroutine train_describe

  !> Every step's training loss (warm-up included), into the results document.
  subroutine train_record_losses(doc, losses)
    type(json_document), intent(in) :: doc  !< results document
    real(dp), intent(in) :: losses(:)       !< loss of each step
    call json_set(doc, "/training/losses", losses)
  end subroutine train_record_losses

end module cgdrag_train_case
